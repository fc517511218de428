import type { Catalog } from '@tresor/catalog';
import type { Bus } from '@tresor/messaging';
import type { ServiceMetrics } from '@tresor/service';

/** Finds what a job was asked to do when this replica did not see its request (the job document). */
export type JobParamsLookup = (jobId: string) => Promise<Record<string, unknown> | undefined>;

interface Envelope {
  type?: string;
  time?: string;
  data?: Record<string, unknown>;
}

/**
 * Feeds the cluster-wide SLIs of docs/monitoring.md from job events: backup success rate and RPO per
 * source (from backup.requested/completed/failed) and RTO per source (restore.started to
 * restore.completed). The last success of each source is seeded from the catalog, so the RPO is
 * right after a restart of monitoring too. Returns how to stop.
 */
export async function followSlis(deps: { bus: Bus; metrics: ServiceMetrics; catalog: Catalog; jobParams: JobParamsLookup }): Promise<() => void> {
  const { bus, metrics, catalog } = deps;
  for (const source of await catalog.listSources()) {
    for (const b of await catalog.listBackups({ sourceId: source.id })) metrics.noteSuccess(source.location, Date.parse(b.completedAt));
  }
  const sources = new Map<string, string>();
  const restores = new Map<string, { at: number; backupId?: string }>();
  const sourceOfJob = async (jobId: string): Promise<string | undefined> => {
    const known = sources.get(jobId);
    if (known) return known;
    const loc = (await deps.jobParams(jobId))?.source as { location?: unknown } | undefined;
    return typeof loc?.location === 'string' ? loc.location : undefined;
  };
  const sourceOfBackup = async (backupId: string): Promise<string | undefined> => {
    const b = await catalog.getBackup(backupId);
    return b ? (await catalog.getSource(b.sourceId))?.location : undefined;
  };
  const handle = async (ev: Envelope): Promise<void> => {
    const data = ev.data ?? {};
    const jobId = String(data.jobId ?? '');
    const at = Date.parse(ev.time ?? '') || Date.now();
    switch (ev.type?.replace(/^io\.tresor\.|\.v\d+$/g, '')) {
      case 'backup.requested': {
        const loc = (data.source as { location?: string } | undefined)?.location;
        if (loc) sources.set(jobId, loc);
        return;
      }
      case 'backup.completed':
      case 'backup.failed': {
        const source = await sourceOfJob(jobId);
        sources.delete(jobId);
        if (source) metrics.observeBackupOutcome(source, ev.type!.includes('.completed.'), at);
        return;
      }
      case 'restore.requested':
        restores.set(jobId, { at, backupId: String(data.backupId) });
        return;
      case 'restore.started':
        // The RTO runs from the request (queueing is the operator's wait too); the first claim stands in
        // when this replica missed the request, and a redelivered attempt must not restart the clock.
        if (!restores.get(jobId)?.at) restores.set(jobId, { at });
        return;
      case 'restore.completed': {
        const begin = restores.get(jobId);
        restores.delete(jobId);
        if (!begin || data.dryRun === true) return;
        const source = await sourceOfBackup(String(data.backupId));
        if (source) metrics.observeRecovery(source, 'restore', Math.max(0, (at - begin.at) / 1000));
        return;
      }
      case 'restore.failed':
        restores.delete(jobId);
        return;
    }
  };
  // Serialised: a completed event must not overtake the requested event of the same job.
  let chain = Promise.resolve();
  const sub = bus.nc.subscribe(bus.topology.subjects.event('*.*'), {
    callback: (_err, msg) => {
      let ev: Envelope;
      try {
        ev = JSON.parse(Buffer.from(msg.data).toString('utf8')) as Envelope;
      } catch {
        return;
      }
      chain = chain.then(() => handle(ev)).catch(() => undefined);
    },
  });
  return () => sub.unsubscribe();
}
