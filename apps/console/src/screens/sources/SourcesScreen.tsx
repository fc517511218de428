// Sources: every source of the user's tenants with its last backup and how fresh it is; a row
// opens the Backups screen filtered to that source.
import { useMemo, useState } from 'react';
import { useNavigate } from 'react-router';
import { useApi } from '../../api/useApi';
import { useSession } from '../../auth/session-context';
import { DataTable } from '../../components/DataTable';
import { Field } from '../../components/Field';
import { LoadState } from '../../components/Notice';
import { Screen } from '../../components/Screen';
import { StatusBadge } from '../../components/StatusBadge';
import { Time } from '../../components/Time';
import type { ListedBackup, SourceRecord } from '../backups/backups';
import type { Alert } from '../overview/types';
import { SelectField } from '../backups/SelectField';
import { DEFAULT_RPO_HOURS, FRESHNESS_TONE, freshnessOf } from '../../domain/freshness';
import type { Freshness } from '../../domain/freshness';
import '../backups/backups.css';

interface SourceRow extends SourceRecord {
  backups: number;
  lastBackup: string | undefined;
  freshness: Freshness;
}

const FRESHNESS: Freshness[] = ['fresh', 'stale', 'overdue', 'never'];


/** The Sources list (route /sources). */
export function SourcesScreen() {
  const navigate = useNavigate();
  const sources = useApi<{ sources: SourceRecord[] }>('/sources');
  const backups = useApi<{ backups: ListedBackup[] }>('/backups');
  const alerts = useApi<{ alerts: Alert[] }>(useSession().can('alerts:read') ? '/alerts' : null, { state: 'firing', limit: 200 });
  const [search, setSearch] = useState('');
  const [tenant, setTenant] = useState('');
  const [freshness, setFreshness] = useState<Freshness | ''>('');

  const all = useMemo<SourceRow[]>(() => {
    const now = new Date();
    const bySource = new Map<string, ListedBackup[]>();
    for (const b of backups.data?.backups ?? []) {
      const list = bySource.get(b.sourceId) ?? [];
      list.push(b);
      bySource.set(b.sourceId, list);
    }
    return (sources.data?.sources ?? []).map((s) => {
      const own = bySource.get(s.id) ?? [];
      const lastBackup = own.map((b) => b.completedAt).sort().at(-1);
      const alert = alerts.data?.alerts.find((a) => a.rule === 'check-freshness' && a.source === s.location);
      return { ...s, backups: own.length, lastBackup, freshness: freshnessOf(lastBackup, now, alert?.level) };
    });
  }, [sources.data, backups.data, alerts.data]);
  const tenants = [...new Set(all.map((s) => s.tenant ?? 'default'))].sort();
  const needle = search.trim().toLowerCase();
  const rows = all
    .filter((s) => !needle || s.location.toLowerCase().includes(needle))
    .filter((s) => !tenant || (s.tenant ?? 'default') === tenant)
    .filter((s) => !freshness || s.freshness === freshness)
    .sort((a, b) => a.location.localeCompare(b.location));

  return (
    <Screen title="Sources">
      <form className="panel filters" role="search" aria-label="Filter sources" onSubmit={(e) => e.preventDefault()}>
        <Field label="Search" type="search" value={search} onChange={(e) => setSearch(e.target.value)} placeholder="part of a path" />
        <SelectField label="Tenant" value={tenant} options={tenants} any="All tenants" onChange={setTenant} />
        <SelectField label="Freshness" value={freshness} options={FRESHNESS} any="Any" onChange={setFreshness} />
      </form>
      <LoadState loading={sources.loading || backups.loading} error={sources.error ?? backups.error} what="sources" />
      {sources.data && backups.data && (
        <DataTable<SourceRow>
          caption={`Sources (${rows.length} of ${all.length})`}
          showCaption
          rows={rows}
          rowKey={(s) => s.id}
          onActivate={(s) => void navigate(`/backups?source=${encodeURIComponent(s.location)}`)}
          empty={all.length === 0 ? 'No sources yet: a source appears with its first backup.' : 'No source matches the filters.'}
          columns={[
            { key: 'location', header: 'Source', cell: (s) => <code>{s.location}</code> },
            { key: 'tenant', header: 'Tenant', cell: (s) => s.tenant ?? 'default' },
            { key: 'sensitive', header: 'Restore needs approval', cell: (s) => (s.sensitive ? 'yes' : 'no') },
            { key: 'backups', header: 'Backups', numeric: true, cell: (s) => s.backups.toLocaleString() },
            { key: 'last', header: 'Last backup', cell: (s) => <Time value={s.lastBackup} /> },
            { key: 'fresh', header: alerts.data ? 'Freshness (monitoring)' : `Freshness (${DEFAULT_RPO_HOURS} h RPO)`, cell: (s) => <StatusBadge status={s.freshness} tone={FRESHNESS_TONE[s.freshness]} /> },
          ]}
        />
      )}
    </Screen>
  );
}
