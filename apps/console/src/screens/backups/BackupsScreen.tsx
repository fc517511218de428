// Backups: every backup of the user's sources, filtered by source, verify status, date and text;
// operators start a backup here and watch it live.
import { useMemo, useState } from 'react';
import { useNavigate, useSearchParams } from 'react-router';
import { useApi } from '../../api/useApi';
import { useSession } from '../../auth/session-context';
import { Bytes } from '../../components/Bytes';
import { Can } from '../../components/Can';
import { DataTable } from '../../components/DataTable';
import { Field } from '../../components/Field';
import { LoadState } from '../../components/Notice';
import { Screen } from '../../components/Screen';
import { StatusBadge } from '../../components/StatusBadge';
import { Time } from '../../components/Time';
import { NO_FILTER, filterBackups, verifyStatusOf } from './backups';
import type { BackupFilter, JobRecord, ListedBackup, SourceRecord, VerifyStatus } from './backups';
import { SelectField } from './SelectField';
import { StartBackup } from './StartBackup';
import './backups.css';

const STATUSES: VerifyStatus[] = ['verified', 'failed', 'running', 'unverified'];
const STATUS_TONE = { verified: 'ok', failed: 'bad', running: 'info', unverified: 'neutral' } as const;

/** The Backups list (route /backups; `?source=` preselects a source). */
export function BackupsScreen() {
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const { can } = useSession();
  const backups = useApi<{ backups: ListedBackup[] }>('/backups');
  const sources = useApi<{ sources: SourceRecord[] }>('/sources');
  // Verify results come from the verify jobs (jobs:read); without it the status column stays empty.
  const jobs = useApi<{ jobs: JobRecord[] }>(can('jobs:read') ? '/jobs' : null, { kind: 'verify', limit: 1000 });
  const [filter, setFilter] = useState<BackupFilter>({ ...NO_FILTER, source: params.get('source') ?? '' });
  const [starting, setStarting] = useState(false);
  const set = (patch: Partial<BackupFilter>) => setFilter((f) => ({ ...f, ...patch }));
  const verifyJobs = useMemo(() => jobs.data?.jobs ?? [], [jobs.data]);
  const rows = useMemo(() => filterBackups(backups.data?.backups ?? [], verifyJobs, filter), [backups.data, verifyJobs, filter]);
  const locations = (sources.data?.sources ?? []).map((s) => s.location).sort();

  return (
    <Screen
      title="Backups"
      actions={
        <Can permission="backups:create">
          <button type="button" className="button" onClick={() => setStarting(true)} disabled={starting || !sources.data}>
            Start backup
          </button>
        </Can>
      }
    >
      {starting && sources.data && (
        <StartBackup
          sources={sources.data.sources}
          onCompleted={() => {
            backups.reload();
            sources.reload();
          }}
          onClose={() => setStarting(false)}
        />
      )}
      <form className="panel filters" role="search" aria-label="Filter backups" onSubmit={(e) => e.preventDefault()}>
        <Field label="Search" type="search" value={filter.search} onChange={(e) => set({ search: e.target.value })} placeholder="id, source, level or tag" />
        <SelectField label="Source" value={filter.source} options={locations} any="All sources" onChange={(source) => set({ source })} />
        <SelectField label="Verification" value={filter.status} options={STATUSES} any="Any" onChange={(status) => set({ status })} />
        <Field label="From" type="date" value={filter.from} onChange={(e) => set({ from: e.target.value })} />
        <Field label="To" type="date" value={filter.to} onChange={(e) => set({ to: e.target.value })} />
      </form>
      <LoadState loading={backups.loading} error={backups.error} what="backups" />
      {backups.data && (
        <DataTable<ListedBackup>
          caption={`Backups (${rows.length} of ${backups.data.backups.length})`}
          showCaption
          rows={rows}
          rowKey={(b) => b.id}
          onActivate={(b) => void navigate(`/backups/${encodeURIComponent(b.id)}`)}
          empty={backups.data.backups.length === 0 ? 'No backups yet.' : 'No backup matches the filters.'}
          columns={[
            { key: 'completed', header: 'Completed', cell: (b) => <Time value={b.completedAt} /> },
            { key: 'source', header: 'Source', cell: (b) => <code>{b.source ?? b.sourceId}</code> },
            { key: 'level', header: 'Level', cell: (b) => b.level },
            { key: 'files', header: 'Files', numeric: true, cell: (b) => b.files.toLocaleString() },
            { key: 'size', header: 'Read', numeric: true, cell: (b) => <Bytes value={b.bytesIn} /> },
            { key: 'stored', header: 'Stored', numeric: true, cell: (b) => <Bytes value={b.bytesStored} /> },
            { key: 'verify', header: 'Verification', cell: (b) => (jobs.data ? <StatusBadge status={verifyStatusOf(verifyJobs, b.id)} tone={STATUS_TONE[verifyStatusOf(verifyJobs, b.id)]} /> : '—') },
            { key: 'id', header: 'Backup', cell: (b) => <code>{b.id}</code> },
          ]}
        />
      )}
    </Screen>
  );
}
