import { describeLoad } from './load.js';

/**
 * Load through the gateway (short variant, 30 s): API clients with autocannon and clients running
 * whole backups and restores at once. Asserts only what holds on a loaded machine: no error, every
 * job completed and restored exactly, memory growth bounded. Latencies and throughput are figures
 * (test/reports/load.json), never assertions. Long variant: test/reliability/long/load.long.ts.
 */
describeLoad('load', { durationS: 30, connections: 4, jobClients: 2 });
