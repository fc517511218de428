// The panels of the overview: services, storage locations, source freshness, firing alerts.
import { DataTable } from '../../components/DataTable';
import { Duration } from '../../components/Duration';
import { StatusBadge } from '../../components/StatusBadge';
import { Time } from '../../components/Time';
import { DEFAULT_RPO_HOURS, FRESHNESS_TONE, freshnessOf } from '../../domain/freshness';
import type { Alert, BackupRecord, ClusterHealth, SourceRecord, StorageLocation } from './types';

const LEVEL_TONE = { INFO: 'info', WARNING: 'warn', CRITICAL: 'bad' } as const;

/** Every service instance monitoring has heard from, with its readiness and last heartbeat. */
export function ServicesPanel({ health }: { health: ClusterHealth }) {
  const rows = [...health.services].sort((a, b) => a.service.localeCompare(b.service) || a.instance.localeCompare(b.instance));
  return (
    <DataTable
      caption="Services"
      columns={[
        { key: 'service', header: 'Service', cell: (s) => s.service },
        { key: 'instance', header: 'Instance', cell: (s) => <code>{s.instance}</code> },
        { key: 'state', header: 'State', cell: (s) => <StatusBadge status={s.ready ? 'ready' : 'not ready'} tone={s.ready ? 'ok' : 'bad'} /> },
        { key: 'seen', header: 'Last heartbeat', cell: (s) => <Time value={s.lastSeen} /> },
      ]}
      rows={rows}
      rowKey={(s) => `${s.service}/${s.instance}`}
      empty="Monitoring has heard from no service yet."
    />
  );
}

/** Storage locations with their capabilities and the storage check's verdict (its firing alerts). */
export function StoragePanel({ locations, alerts }: { locations: StorageLocation[]; alerts: Alert[] | undefined }) {
  const storageAlerts = (alerts ?? []).filter((a) => a.rule === 'check-storage');
  const capabilities = (l: StorageLocation) =>
    [l.capabilities.immutability && 'immutability (WORM)', l.capabilities.rangedReads && 'ranged reads', l.capabilities.serverSideCopy && 'server-side copy'].filter(Boolean).join(', ') || 'none';
  return (
    <>
      <DataTable
        caption="Storage locations"
        columns={[
          { key: 'name', header: 'Name', cell: (l) => l.name },
          { key: 'location', header: 'Location', cell: (l) => <code>{l.location}</code> },
          { key: 'caps', header: 'Capabilities', cell: capabilities },
        ]}
        rows={locations}
        rowKey={(l) => l.name}
        empty="No storage location is configured."
      />
      {alerts && (
        <p className="check-line">
          Storage check:{' '}
          {storageAlerts.length === 0 ? (
            <StatusBadge status="ok" label="passing" />
          ) : (
            storageAlerts.map((a) => <StatusBadge key={a.id} status={a.level} tone={LEVEL_TONE[a.level]} label={`${a.level}: ${a.summary}`} />)
          )}
        </p>
      )}
    </>
  );
}

/** One source's freshness: its last successful backup and the monitoring verdict against its RPO. */
export interface FreshnessRow {
  source: SourceRecord;
  lastBackupAt: string | undefined;
  ageMs: number | undefined;
  alert: Alert | undefined;
}

/** Last successful backup per source, joined with the firing `check-freshness` alerts. */
export function freshnessRows(sources: SourceRecord[], backups: BackupRecord[], alerts: Alert[] | undefined, now: number): FreshnessRow[] {
  const last = new Map<string, string>();
  for (const b of backups) if ((last.get(b.sourceId) ?? '') < b.completedAt) last.set(b.sourceId, b.completedAt);
  return sources
    .map((source) => {
      const lastBackupAt = last.get(source.id);
      const alert = alerts?.find((a) => a.rule === 'check-freshness' && a.source === source.location);
      return { source, lastBackupAt, ageMs: lastBackupAt ? now - Date.parse(lastBackupAt) : undefined, alert };
    })
    .sort((a, b) => (b.ageMs ?? Infinity) - (a.ageMs ?? Infinity));
}

/** What the badge says for each freshness, in the monitoring service's words. */
const FRESHNESS_LABEL = { fresh: 'within RPO', stale: 'over the RPO', overdue: 'over twice the RPO', never: 'no backup yet' } as const;

function Verdict({ row, judged }: { row: FreshnessRow; judged: boolean }) {
  const freshness = freshnessOf(row.lastBackupAt, new Date(), row.alert?.level);
  const label = judged ? FRESHNESS_LABEL[freshness] : `${FRESHNESS_LABEL[freshness]} (${DEFAULT_RPO_HOURS} h default)`;
  return <StatusBadge status={freshness} tone={FRESHNESS_TONE[freshness]} label={label} />;
}

/** Sources, oldest last backup first. */
export function FreshnessPanel({ rows, judged }: { rows: FreshnessRow[]; judged: boolean }) {
  return (
    <DataTable
      caption="Source freshness"
      columns={[
        { key: 'source', header: 'Source', cell: (r) => <code>{r.source.location}</code> },
        { key: 'tenant', header: 'Tenant', cell: (r) => r.source.tenant ?? 'default' },
        { key: 'last', header: 'Last successful backup', cell: (r) => (r.lastBackupAt ? <Time value={r.lastBackupAt} /> : 'never') },
        { key: 'age', header: 'Age', numeric: true, cell: (r) => <Duration ms={r.ageMs} /> },
        { key: 'rpo', header: 'RPO', numeric: true, cell: (r) => (typeof r.alert?.details.rpoSeconds === 'number' ? <Duration ms={r.alert.details.rpoSeconds * 1000} /> : '—') },
        { key: 'verdict', header: 'Freshness', cell: (r) => <Verdict row={r} judged={judged} /> },
      ]}
      rows={rows}
      rowKey={(r) => r.source.id}
      empty="No source has been backed up yet."
    />
  );
}

/** Firing alerts, most severe first. */
export function AlertsPanel({ alerts }: { alerts: Alert[] }) {
  const order = { CRITICAL: 0, WARNING: 1, INFO: 2 };
  const rows = [...alerts].sort((a, b) => order[a.level] - order[b.level] || b.raisedAt.localeCompare(a.raisedAt));
  return (
    <DataTable
      caption="Firing alerts"
      columns={[
        { key: 'level', header: 'Level', cell: (a) => <StatusBadge status={a.level} tone={LEVEL_TONE[a.level]} /> },
        { key: 'summary', header: 'Summary', cell: (a) => a.summary },
        { key: 'rule', header: 'Rule', cell: (a) => <code>{a.rule}</code> },
        { key: 'raised', header: 'Raised', cell: (a) => <Time value={a.raisedAt} /> },
        { key: 'seen', header: 'Last seen', cell: (a) => <Time value={a.lastSeenAt} /> },
      ]}
      rows={rows}
      rowKey={(a) => a.id}
      empty="No alert is firing."
    />
  );
}
