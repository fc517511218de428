import { describeServiceKills } from './service-kills.js';

// kill -9 of recovery, the storage-gateway and audit during a stream of jobs, once each (see service-kills.ts).
describeServiceKills(1);
