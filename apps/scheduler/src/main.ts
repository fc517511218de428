// scheduler: fires one-off and interval schedules (stored in the catalog) as backup jobs.
// Cron expressions and leader election among several schedulers come with the operations issue.
import { z } from 'zod';
import { connectMongoCatalog, scheduleFiringKey } from '@tresor/catalog';
import type { MongoCatalogConnection } from '@tresor/catalog';
import type { CreateBackupRequest } from '@tresor/contracts';
import type { Bus, Logger } from '@tresor/messaging';
import { baseConfigSchema, loadConfig, runService, start, submitBackupJob } from '@tresor/service';

const configSchema = baseConfigSchema.extend({
  /** How often due schedules are looked up. */
  TRESOR_SCHEDULER_TICK_MS: z.coerce.number().int().min(100).default(1000),
});

/**
 * Fires every due schedule once: its backup goes through the same path as POST /v1/backups, with
 * the idempotency key of this firing, so a firing repeated after a crash finds the same job.
 */
async function tick(mongo: MongoCatalogConnection, bus: Bus, logger: Logger): Promise<void> {
  const now = new Date();
  for (const schedule of await mongo.schedules.due(now)) {
    const n = schedule.fired + 1;
    const job = await submitBackupJob({ bus, jobs: mongo.jobs }, schedule.backup as CreateBackupRequest, { idempotencyKey: scheduleFiringKey(schedule.id, n) });
    const advanced = await mongo.schedules.markFired(schedule, job.id, now);
    logger.info({ scheduleId: schedule.id, firing: n, jobId: job.id, advanced }, 'schedule fired');
  }
}

start(async () => {
  const config = loadConfig(configSchema);
  const mongo = await connectMongoCatalog(config.TRESOR_MONGODB_URL, config.TRESOR_MONGODB_DB, {
    writeConcern: { w: config.TRESOR_MONGODB_WRITE_CONCERN === 'majority' ? 'majority' : Number(config.TRESOR_MONGODB_WRITE_CONCERN) },
    readConcern: config.TRESOR_MONGODB_READ_CONCERN,
  });
  await runService({
    name: 'scheduler',
    config,
    async setup({ bus, logger }) {
      let running: Promise<void> = Promise.resolve();
      let stopped = false;
      const timer = setInterval(() => {
        if (stopped) return;
        // One tick at a time; a failed tick (NATS or MongoDB away) is retried on the next.
        running = running.then(() => tick(mongo, bus, logger)).catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'scheduler tick failed'));
      }, config.TRESOR_SCHEDULER_TICK_MS);
      return {
        checks: () => ({ mongodb: true }),
        stop: async () => {
          stopped = true;
          clearInterval(timer);
          await running;
          await mongo.close();
        },
      };
    },
  });
});
