import type { Db } from 'mongodb';
import type { AlertManager } from '@tresor/alerting';
import { MongoDrillStore, loadMonitorConfig } from '@tresor/assurance';
import type { Catalog } from '@tresor/catalog';
import { UsageError } from '@tresor/errors';
import type { Bus, Logger } from '@tresor/messaging';
import { RemoteObjectStore } from '@tresor/messaging';
import type { ServiceMetrics } from '@tresor/service';
import { openClusterRepository, serviceKeySupplier } from '@tresor/service';
import { drillAndRecord } from './drill-run.js';

/**
 * Restore drills on the schedule of the monitoring config (`drills.schedule`), run by the monitoring
 * service against the cluster's repository (storage through the storage gateway, the MongoDB catalog,
 * the passphrase of TRESOR_PASSPHRASE_FILE). With several monitoring replicas each due time runs once:
 * the first replica to insert the claim `drill@<due time>` runs it. Records go to the `drills`
 * collection, the RTO to `tresor_sli_rto_seconds{kind="drill"}`, failures to CRITICAL alerts.
 */
export async function startClusterDrills(deps: { file: string | undefined; repoDir: string | undefined; bus: Bus; db: Db; catalog: Catalog; manager: AlertManager; metrics: ServiceMetrics; logger: Logger }): Promise<() => void> {
  const { logger } = deps;
  const config = deps.file ? await loadMonitorConfig(deps.file) : undefined;
  if (!config?.drills.schedule) return () => undefined;
  const repoDir = deps.repoDir;
  if (!repoDir) throw new UsageError('configuration: drills.schedule of TRESOR_MONITOR_CONFIG needs TRESOR_REPO (tresor.json and the signing key) and the passphrase (TRESOR_PASSPHRASE_FILE)');
  const { Cron } = await import('croner');
  const store = new MongoDrillStore(deps.db);
  const claims = deps.db.collection<{ _id: string; by: string; at: Date }>('drill_claims');
  const supplier = serviceKeySupplier();
  const run = async (due: Date): Promise<void> => {
    try {
      await claims.insertOne({ _id: `drill@${due.toISOString()}`, by: deps.bus.source, at: new Date() });
    } catch {
      return; // Another replica claimed this due time (duplicate key), or MongoDB is away: not ours to run.
    }
    const objects = await RemoteObjectStore.connect(deps.bus);
    const repo = await openClusterRepository(repoDir, objects, deps.catalog, supplier);
    await drillAndRecord(deps, repo, store, { ...(config.drills.sources ? { sources: config.drills.sources } : {}), ...(config.drills.randomWithinDays ? { randomWithinDays: config.drills.randomWithinDays } : {}) });
  };
  const cron = new Cron(config.drills.schedule, { ...(config.drills.timezone ? { timezone: config.drills.timezone } : {}), protect: true }, async (self: { currentRun(): Date | null }) => {
    // Replicas fire within milliseconds of each other: the claim is keyed by the due second.
    const due = Math.floor((self.currentRun() ?? new Date()).getTime() / 1000) * 1000;
    await run(new Date(due)).catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'restore drill could not run'));
  });
  logger.info({ schedule: config.drills.schedule, next: cron.nextRun()?.toISOString() }, 'restore drills scheduled');
  return () => cron.stop();
}
