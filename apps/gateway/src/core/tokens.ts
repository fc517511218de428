export const BUS = Symbol('BUS');
export const JOB_STORE = Symbol('JOB_STORE');
export const CATALOG = Symbol('CATALOG');
export const SCHEDULE_STORE = Symbol('SCHEDULE_STORE');
export const MONGO_DB = Symbol('MONGO_DB');
