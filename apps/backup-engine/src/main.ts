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
              { bus, jobs: mongo.jobs, catalog: mongo.catalog, store, worker: instance, openRepository: (s) => openClusterRepository(config.TRESOR_REPO, s, mongo.catalog, supplier) },
              job,
              ctx,
            ),
        },
      });
      return { checks: () => ({ mongodb: true }), stop: () => mongo.close() };
    },
  });
});
