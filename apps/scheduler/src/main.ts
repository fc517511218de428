// scheduler: fires once, interval and cron schedules (stored in the catalog) as backup jobs. Replicas
// elect one leader through a Redis lease; only the leader fires (see docs/scheduling.md).
import { z } from 'zod';
import { connectMongoCatalog } from '@tresor/catalog';
import { baseConfigSchema, loadConfig, mongoTlsOptions, runService, start, startLeadership } from '@tresor/service';
import { fireDue } from './fire.js';

const configSchema = baseConfigSchema.extend({
  /** How often due schedules are looked up. */
  TRESOR_SCHEDULER_TICK_MS: z.coerce.number().int().min(100).default(1000),
  /** Redis for leader election; without it this replica assumes it is the only one. */
  TRESOR_REDIS_URL: z.string().optional(),
  TRESOR_REDIS_PREFIX: z.string().default('tresor:'),
  /** A leader that cannot renew its lease for this long is replaced. */
  TRESOR_SCHEDULER_LEASE_TTL_MS: z.coerce.number().int().min(500).default(15_000),
  /** How often the leader renews and followers try to take over (default ttl / 3). */
  TRESOR_SCHEDULER_LEASE_RENEW_MS: z.coerce.number().int().min(100).optional(),
  /** A run due longer ago than this is missed (catch-up policy), not merely late. */
  TRESOR_SCHEDULER_GRACE_MS: z.coerce.number().int().min(0).default(60_000),
});

start(async () => {
  const config = loadConfig(configSchema);
  const mongo = await connectMongoCatalog(config.TRESOR_MONGODB_URL, config.TRESOR_MONGODB_DB, {
    clientOptions: mongoTlsOptions(config),
    writeConcern: { w: config.TRESOR_MONGODB_WRITE_CONCERN === 'majority' ? 'majority' : Number(config.TRESOR_MONGODB_WRITE_CONCERN) },
    readConcern: config.TRESOR_MONGODB_READ_CONCERN,
  });
  await runService({
    name: 'scheduler',
    config,
    async setup({ bus, logger, instance, metrics }) {
      const leadership = startLeadership({
        role: 'scheduler',
        config,
        instance,
        ttlMs: config.TRESOR_SCHEDULER_LEASE_TTL_MS,
        renewMs: config.TRESOR_SCHEDULER_LEASE_RENEW_MS,
        logger,
        metrics,
      });
      const leaderToken = leadership.token;

      let running: Promise<void> = Promise.resolve();
      let stopped = false;
      const timer = setInterval(() => {
        if (stopped || leaderToken() === null) return;
        // One tick at a time; a failed tick (NATS or MongoDB away) is retried on the next.
        running = running
          .then(() => fireDue({ bus, jobs: mongo.jobs, schedules: mongo.schedules, logger, graceMs: config.TRESOR_SCHEDULER_GRACE_MS, leaderToken }))
          .then(() => undefined)
          .catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'scheduler tick failed'));
      }, config.TRESOR_SCHEDULER_TICK_MS);
      return {
        checks: () => ({ mongodb: true, ...leadership.checks() }),
        detail: () => ({ leader: leadership.detail() }),
        stop: async () => {
          stopped = true;
          clearInterval(timer);
          await running;
          await leadership.stop();
          await mongo.close();
        },
      };
    },
  });
});
