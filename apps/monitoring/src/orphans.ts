import { Counter } from 'prom-client';
import type { Catalog } from '@tresor/catalog';
import { COMMANDS, EVENTS } from '@tresor/contracts';
import { UsageError } from '@tresor/errors';
import type { Bus, Logger } from '@tresor/messaging';
import { RemoteObjectStore } from '@tresor/messaging';
import type { FsckRepair, Repository } from '@tresor/repository';
import { fsckRepository, sweepOrphans } from '@tresor/repository';
import type { ServiceMetrics } from '@tresor/service';
import { openClusterRepository, serviceKeySupplier } from '@tresor/service';

/** Removed objects named in one event (the count says how many in all; an event must fit one message). */
const LISTED_IN_EVENT = 100;

export interface OrphanDeps {
  readonly bus: Bus;
  readonly catalog: Catalog;
  readonly repoDir: string | undefined;
  readonly metrics: ServiceMetrics;
  readonly logger: Logger;
}

/** The cluster's repository as fsck sees it: the MongoDB catalog and the storage behind the storage-gateway. */
function clusterRepository(deps: OrphanDeps): () => Promise<Repository> {
  const supplier = serviceKeySupplier();
  return async () => {
    if (!deps.repoDir) throw new UsageError('the monitoring service has no repository: set TRESOR_REPO (tresor.json and the signing key) to check or repair it');
    return openClusterRepository(deps.repoDir, await RemoteObjectStore.connect(deps.bus), deps.catalog, supplier);
  };
}

/** Counts removed orphans, records them as an event (which the audit service logs) and logs them. */
function recorder(deps: OrphanDeps): (trigger: 'sweep' | 'request', olderThanMs: number, repairs: readonly FsckRepair[]) => Promise<void> {
  const counter =
    (deps.metrics.registry.getSingleMetric('tresor_orphans_removed_total') as Counter<'trigger'> | undefined) ??
    new Counter({ name: 'tresor_orphans_removed_total', help: 'Orphan objects (of backups the catalog does not know) deleted by the sweep or a requested repair.', labelNames: ['trigger'], registers: [deps.metrics.registry] });
  return async (trigger, olderThanMs, repairs) => {
    const removed = repairs.filter((r) => r.outcome === 'deleted');
    if (removed.length === 0) return;
    counter.inc({ trigger }, removed.length);
    deps.logger.info({ trigger, removed: removed.length, keys: removed.slice(0, LISTED_IN_EVENT).map((r) => r.key) }, 'orphan objects deleted');
    await deps.bus.publishEvent(EVENTS.repositoryOrphansRemoved, {
      trigger,
      olderThanSeconds: Math.round(olderThanMs / 1000),
      count: removed.length,
      removed: removed.slice(0, LISTED_IN_EVENT).map(({ location, key, backupId }) => ({ location, key, backupId })),
      kept: repairs.length - removed.length,
    });
  };
}

/**
 * Answers `monitoring.fsck` (POST /v1/fsck, `tresor fsck --server`) on every replica: the standalone
 * check (libs/repository fsck) over the cluster's catalog and storage. A repair that deleted
 * something is recorded like the sweep's.
 */
export function serveClusterFsck(deps: OrphanDeps): void {
  const repository = clusterRepository(deps);
  const record = recorder(deps);
  deps.bus.serve(COMMANDS.monitoringFsck, async (req) => {
    const repair = req.repair ? { olderThanMs: req.repair.olderThanSeconds * 1000 } : undefined;
    const report = await fsckRepository(await repository(), { readData: req.readData, ...(repair ? { repair } : {}) });
    if (repair) await record('request', repair.olderThanMs, report.repairs);
    return { v: 1 as const, report: { ...report, findings: [...report.findings], locations: [...report.locations], repairs: [...report.repairs] } };
  });
}

export interface OrphanSweepConfig {
  /** How often the leader sweeps; 0: never. */
  readonly intervalMs: number;
  /** Orphans younger than this are kept: longer than the longest backup job (a backup in flight has no catalog entry yet). */
  readonly graceMs: number;
}

/**
 * The leader's orphan sweep (docs/reliability.md): every `intervalMs`, deletes the orphan objects
 * older than `graceMs` (what an engine killed mid-commit, or cut off from the bus, could not delete)
 * and records what it removed. Returns the stop function of the term.
 */
export function startOrphanSweep(deps: OrphanDeps, config: OrphanSweepConfig): () => Promise<void> {
  if (!deps.repoDir || config.intervalMs <= 0) return async () => undefined;
  const repository = clusterRepository(deps);
  const record = recorder(deps);
  let running: Promise<void> | undefined;
  const tick = () => {
    running ??= (async () => {
      const sweep = await sweepOrphans(await repository(), config.graceMs);
      await record('sweep', config.graceMs, sweep.report.repairs);
    })()
      .catch((err: unknown) => deps.logger.warn({ err: (err as Error).message }, 'orphan sweep could not run; next interval'))
      .finally(() => (running = undefined));
  };
  const timer = setInterval(tick, config.intervalMs);
  return async () => {
    clearInterval(timer);
    await running;
  };
}
