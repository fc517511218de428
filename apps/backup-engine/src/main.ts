// backup-engine: pulls backup jobs from the shared work queue and runs the archive pipeline of the libs.
import { Redis } from 'ioredis';
import { z } from 'zod';
import { connectMongoCatalog } from '@tresor/catalog';
import { JOBS } from '@tresor/contracts';
import { RemoteObjectStore } from '@tresor/messaging';
import { RedisLease } from '@tresor/scheduling';
import { baseConfigSchema, loadConfig, mongoTlsOptions, redisTlsOptions, openClusterRepository, runService, serviceKeySupplier, start } from '@tresor/service';
import { handleBackupJob } from './backup.handler.js';
import { DEFAULT_RETRY_POLICY } from './retry.js';

const configSchema = baseConfigSchema.extend({
  /** This host's repository directory: tresor.json and the signing key (see docs/cluster.md). */
  TRESOR_REPO: z.string().min(1),
  /** Redis for per-source locks; without it backups of one source may overlap. */
  TRESOR_REDIS_URL: z.string().optional(),
  TRESOR_REDIS_PREFIX: z.string().default('tresor:'),
  /** A source lock whose engine died lapses after this long. */
  TRESOR_SOURCE_LOCK_TTL_MS: z.coerce.number().int().min(1000).default(30_000),
  /** Test-only: slows archive uploads by this many ms per 64 KiB (fault tests kill an engine mid-upload). */
  TRESOR_TEST_UPLOAD_DELAY_MS: z.coerce.number().int().min(0).default(0),
});

start(async () => {
  const config = loadConfig(configSchema);
  const mongo = await connectMongoCatalog(config.TRESOR_MONGODB_URL, config.TRESOR_MONGODB_DB, {
    clientOptions: mongoTlsOptions(config),
    writeConcern: { w: config.TRESOR_MONGODB_WRITE_CONCERN === 'majority' ? 'majority' : Number(config.TRESOR_MONGODB_WRITE_CONCERN) },
    readConcern: config.TRESOR_MONGODB_READ_CONCERN,
  });
  const supplier = serviceKeySupplier();
  await runService({
    name: 'backup-engine',
    config,
    consumers: (t) => [t.consumers.backupEngine],
    async setup({ bus, topology, instance, logger }) {
      const store = await RemoteObjectStore.connect(bus);
      const redis = config.TRESOR_REDIS_URL ? new Redis(config.TRESOR_REDIS_URL, { ...redisTlsOptions(config), keyPrefix: config.TRESOR_REDIS_PREFIX, maxRetriesPerRequest: 1 }) : undefined;
      redis?.on('error', (err: Error) => logger.warn({ err: err.message }, 'redis'));
      if (!redis) logger.warn('TRESOR_REDIS_URL is not set: backups of one source are not kept from overlapping');
      const sourceLease = redis ? new RedisLease(redis) : undefined;
      // A retry is a redelivery of the job's message: never plan more attempts than the consumer delivers.
      const maxDeliver = topology.consumers.backupEngine.maxDeliver;
      const retryPolicy = { ...DEFAULT_RETRY_POLICY, maxAttempts: maxDeliver > 0 ? Math.min(DEFAULT_RETRY_POLICY.maxAttempts, maxDeliver) : DEFAULT_RETRY_POLICY.maxAttempts };
      bus.consumeJobs(topology.consumers.backupEngine, {
        backup: {
          def: JOBS.backup,
          handle: (job, ctx) =>
            handleBackupJob(
              { bus, jobs: mongo.jobs, catalog: mongo.catalog, store, worker: instance, retryPolicy, uploadDelayMs: config.TRESOR_TEST_UPLOAD_DELAY_MS, sourceLease, sourceLeaseTtlMs: config.TRESOR_SOURCE_LOCK_TTL_MS, openRepository: (s) => openClusterRepository(config.TRESOR_REPO, s, mongo.catalog, supplier) },
              job,
              ctx,
            ),
        },
      });
      return {
        checks: () => ({ mongodb: true, ...(redis ? { redis: redis.status === 'ready' } : {}) }),
        stop: async () => {
          redis?.disconnect();
          await mongo.close();
        },
      };
    },
  });
});
