export * from './timetable.js';
export * from './plan.js';
export * from './jitter.js';
export * from './firings.js';
export * from './lease.js';
export * from './redis-lease.js';
export * from './leader.js';
export * from './schedule.js';
