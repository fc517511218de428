// backup-engine: pulls backup jobs from the shared work queue and runs the archive pipeline of the libs.
import { z } from 'zod';
import { connectMongoCatalog } from '@tresor/catalog';
import { JOBS } from '@tresor/contracts';
import { RemoteObjectStore } from '@tresor/messaging';
import { baseConfigSchema, loadConfig, openClusterRepository, runService, serviceKeySupplier, start } from '@tresor/service';
import { handleBackupJob } from './backup.handler.js';

const configSchema = baseConfigSchema.extend({
  /** This host's repository directory: tresor.json and the signing key (see docs/cluster.md). */
  TRESOR_REPO: z.string().min(1),
  /** Test-only: slows archive uploads by this many ms per 64 KiB (fault tests kill an engine mid-upload). */
  TRESOR_TEST_UPLOAD_DELAY_MS: z.coerce.number().int().min(0).default(0),
});

start(async () => {
  const config = loadConfig(configSchema);
  const mongo = await connectMongoCatalog(config.TRESOR_MONGODB_URL, config.TRESOR_MONGODB_DB, {
    writeConcern: { w: config.TRESOR_MONGODB_WRITE_CONCERN === 'majority' ? 'majority' : Number(config.TRESOR_MONGODB_WRITE_CONCERN) },
    readConcern: config.TRESOR_MONGODB_READ_CONCERN,
  });
  const supplier = serviceKeySupplier();
  await runService({
    name: 'backup-engine',
    config,
    consumers: (t) => [t.consumers.backupEngine],
    async setup({ bus, topology, instance }) {
      const store = await RemoteObjectStore.connect(bus);
      bus.consumeJobs(topology.consumers.backupEngine, {
        backup: {
          def: JOBS.backup,
          handle: (job, ctx) =>
            handleBackupJob(
              { bus, jobs: mongo.jobs, catalog: mongo.catalog, store, worker: instance, uploadDelayMs: config.TRESOR_TEST_UPLOAD_DELAY_MS, openRepository: (s) => openClusterRepository(config.TRESOR_REPO, s, mongo.catalog, supplier) },
              job,
              ctx,
            ),
        },
      });
      return { checks: () => ({ mongodb: true }), stop: () => mongo.close() };
    },
  });
});
