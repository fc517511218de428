import { describeLoad } from '../load.js';

// Long variant of load.e2e.spec.ts: 10 minutes (TRESOR_LOAD_SECONDS), more connections and job clients.
describeLoad('load-long', { durationS: Number(process.env.TRESOR_LOAD_SECONDS ?? 600), connections: 8, jobClients: 3 });
