// monitoring: aggregates service heartbeats and job outcomes (alert rules and notifications come later).
import { COMMANDS, heartbeatSchema } from '@tresor/contracts';
import type { Heartbeat } from '@tresor/contracts';
import { baseConfigSchema, loadConfig, runService, start } from '@tresor/service';

/** A service not heard from for this long is reported not ready. */
const STALE_MS = 10_000;

start(async () => {
  const config = loadConfig(baseConfigSchema);
  await runService({
    name: 'monitoring',
    config,
    async setup({ bus, topology }) {
      const seen = new Map<string, Heartbeat>();
      const jobs = { completed: 0, failed: 0 };
      const beats = bus.nc.subscribe(topology.subjects.heartbeats, {
        callback: (_err, msg) => {
          try {
            const hb = heartbeatSchema.parse(JSON.parse(Buffer.from(msg.data).toString('utf8')));
            seen.set(hb.instance, hb);
          } catch {
            // Malformed heartbeats are ignored: they carry no work.
          }
        },
      });
      const outcomes = bus.nc.subscribe(topology.subjects.event('*.*'), {
        callback: (_err, msg) => {
          if (/\.(backup|restore|verify)\.completed$/.test(msg.subject)) jobs.completed++;
          else if (/\.(backup|restore|verify)\.failed$/.test(msg.subject)) jobs.failed++;
        },
      });
      bus.serve(COMMANDS.monitoringStatus, async () => {
        const now = Date.now();
        return {
          v: 1 as const,
          services: [...seen.values()].map((hb) => ({ service: hb.service, instance: hb.instance, ready: hb.ready && now - Date.parse(hb.time) < STALE_MS, lastSeen: hb.time })),
          jobs: { ...jobs },
        };
      });
      return { stop: async () => { beats.unsubscribe(); outcomes.unsubscribe(); } };
    },
  });
});
