import type { AlertManager } from '@tresor/alerting';
import type { DrillOptions, DrillStore } from '@tresor/assurance';
import { runDrills } from '@tresor/assurance';
import type { DrillRecord } from '@tresor/contracts';
import type { Logger } from '@tresor/messaging';
import type { Repository } from '@tresor/repository';
import type { ServiceMetrics } from '@tresor/service';

/** Runs restore drills (scheduled or on request), feeds their RTO to the SLI metric and logs each one. */
export async function drillAndRecord(deps: { manager: AlertManager | undefined; metrics: ServiceMetrics; logger: Logger }, repo: Repository, store: DrillStore, options: DrillOptions): Promise<DrillRecord[]> {
  const records = await runDrills(repo, store, deps.manager, options);
  for (const r of records) {
    if (r.ok) deps.metrics.observeRecovery(r.source, 'drill', r.rtoSeconds);
    deps.logger.info({ event: 'drill', source: r.source, backupId: r.backupId, ok: r.ok, rtoSeconds: r.rtoSeconds, ...(r.problem ? { problem: r.problem } : {}) }, 'restore drill');
  }
  return records;
}
