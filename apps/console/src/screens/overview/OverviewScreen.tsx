// Overview: health of every service and storage location, freshness of each source against its
// RPO, firing alerts, and backup outcomes and sizes over the last 30 days. Each panel reads its
// own route and shows only when the user's roles allow that route.
import { useMemo } from 'react';
import { useApi } from '../../api/useApi';
import { useSession } from '../../auth/session-context';
import { LoadState } from '../../components/Notice';
import { Screen } from '../../components/Screen';
import { StatusBadge } from '../../components/StatusBadge';
import { BackupChart } from './BackupChart';
import { dailyBuckets } from './daily';
import { AlertsPanel, FreshnessPanel, ServicesPanel, StoragePanel, freshnessRows } from './panels';
import type { Alert, BackupRecord, ClusterHealth, JobRecord, SourceRecord, StorageLocation } from './types';

const DAYS = 30;

/** The overview screen. */
export function OverviewScreen() {
  const { can } = useSession();
  const health = useApi<ClusterHealth>('/health');
  const storage = useApi<{ locations: StorageLocation[] }>(can('storage:read') ? '/storage/locations' : null);
  const alerts = useApi<{ alerts: Alert[] }>(can('alerts:read') ? '/alerts' : null, { state: 'firing', limit: 200 });
  const sources = useApi<{ sources: SourceRecord[] }>(can('sources:read') ? '/sources' : null);
  const backups = useApi<{ backups: BackupRecord[] }>(can('backups:read') ? '/backups' : null);
  const jobs = useApi<{ jobs: JobRecord[] }>(can('jobs:read') ? '/jobs' : null, { kind: 'backup', limit: 1000 });

  const reloadAll = () => [health, storage, alerts, sources, backups, jobs].forEach((s) => s.reload());
  const days = useMemo(() => dailyBuckets(new Date(), DAYS, jobs.data?.jobs ?? [], backups.data?.backups ?? []), [jobs.data, backups.data]);
  const freshness = useMemo(
    () => freshnessRows(sources.data?.sources ?? [], backups.data?.backups ?? [], alerts.data?.alerts, Date.now()),
    [sources.data, backups.data, alerts.data],
  );

  return (
    <Screen
      title="Overview"
      actions={
        <button type="button" className="button secondary" onClick={reloadAll}>
          Refresh
        </button>
      }
    >
      <div className="grid-2">
        <section className="panel" aria-labelledby="ov-services">
          <h2 id="ov-services">
            Services {health.data && <StatusBadge status={health.data.status} label={health.data.status === 'ok' ? 'all ready' : 'degraded'} />}
          </h2>
          <LoadState loading={health.loading} error={health.error} what="cluster health" />
          {health.data && <ServicesPanel health={health.data} />}
          {health.data && (
            <p className="muted">
              Jobs since monitoring started: {health.data.jobs.completed} completed, {health.data.jobs.failed} failed.
            </p>
          )}
        </section>

        {can('storage:read') && (
          <section className="panel" aria-labelledby="ov-storage">
            <h2 id="ov-storage">Storage locations</h2>
            <LoadState loading={storage.loading} error={storage.error} what="storage locations" />
            {storage.data && <StoragePanel locations={storage.data.locations} alerts={alerts.data?.alerts} />}
          </section>
        )}
      </div>

      {can('sources:read') && (
        <section className="panel" aria-labelledby="ov-freshness">
          <h2 id="ov-freshness">Source freshness against RPO</h2>
          <LoadState loading={sources.loading || backups.loading} error={sources.error ?? backups.error} what="sources" />
          {sources.data && backups.data && <FreshnessPanel rows={freshness} judged={alerts.data !== undefined} />}
        </section>
      )}

      {can('alerts:read') && (
        <section className="panel" aria-labelledby="ov-alerts">
          <h2 id="ov-alerts">Alerts</h2>
          <LoadState loading={alerts.loading} error={alerts.error} what="alerts" />
          {alerts.data && <AlertsPanel alerts={alerts.data.alerts} />}
        </section>
      )}

      {can('jobs:read') && can('backups:read') && (
        <section className="panel" aria-labelledby="ov-chart">
          <h2 id="ov-chart">Backups over the last {DAYS} days</h2>
          <LoadState loading={jobs.loading || backups.loading} error={jobs.error ?? backups.error} what="backup history" />
          {jobs.data && backups.data && <BackupChart days={days} />}
        </section>
      )}
    </Screen>
  );
}
