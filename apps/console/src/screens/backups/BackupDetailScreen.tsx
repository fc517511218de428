// One backup: its facts, its entries with sizes, its verify results, and (operators) a button to
// verify it again, with the verification's progress live.
import { useMemo, useState } from 'react';
import { Link, useParams } from 'react-router';
import { ApiError, api } from '../../api/client';
import { useApi } from '../../api/useApi';
import { useSession } from '../../auth/session-context';
import { Bytes } from '../../components/Bytes';
import { Can } from '../../components/Can';
import { DataTable } from '../../components/DataTable';
import { Field } from '../../components/Field';
import { LoadState, Notice } from '../../components/Notice';
import { Screen } from '../../components/Screen';
import { StatusBadge } from '../../components/StatusBadge';
import { Time } from '../../components/Time';
import { verifyJobsOf, verifyStatusOfJob } from './backups';
import type { BackupEntry, JobRecord, ListedBackup, SourceRecord } from './backups';
import { JobProgress } from './JobProgress';
import './backups.css';

const STATUS_TONE = { verified: 'ok', failed: 'bad', running: 'info', unverified: 'neutral' } as const;

/** The backup detail (route /backups/:id). */
export function BackupDetailScreen() {
  const { id = '' } = useParams();
  const { can } = useSession();
  const detail = useApi<{ backup: ListedBackup; entries: BackupEntry[] }>(`/backups/${encodeURIComponent(id)}`, { entries: true });
  const sources = useApi<{ sources: SourceRecord[] }>('/sources');
  const jobs = useApi<{ jobs: JobRecord[] }>(can('jobs:read') ? '/jobs' : null, { kind: 'verify', limit: 1000 });
  const [search, setSearch] = useState('');
  const [verifyJob, setVerifyJob] = useState<string>();
  const [verifyError, setVerifyError] = useState<string>();
  const backup = detail.data?.backup;
  const entries = useMemo(() => {
    const needle = search.trim().toLowerCase();
    return (detail.data?.entries ?? []).filter((e) => !needle || e.path.toLowerCase().includes(needle));
  }, [detail.data, search]);
  const verifications = backup ? verifyJobsOf(jobs.data?.jobs ?? [], backup.id) : [];

  async function verify(deep: boolean) {
    setVerifyError(undefined);
    try {
      const { job } = await api<{ job: JobRecord }>(`/backups/${encodeURIComponent(id)}/verify`, { method: 'POST', body: { deep } });
      setVerifyJob(job.id);
    } catch (cause) {
      setVerifyError(cause instanceof ApiError ? cause.message : String(cause));
    }
  }

  return (
    <Screen
      title={backup ? `Backup ${backup.id}` : 'Backup'}
      actions={
        <Can permission="backups:verify">
          <button type="button" className="button" onClick={() => void verify(false)} disabled={!backup}>
            Verify
          </button>
          <button type="button" className="button secondary" onClick={() => void verify(true)} disabled={!backup}>
            Verify deeply
          </button>
        </Can>
      }
    >
      <p>
        <Link to="/backups">← All backups</Link>
      </p>
      <LoadState loading={detail.loading} error={detail.error} what="the backup" />
      {verifyError && <Notice kind="error">Could not start the verification: {verifyError}</Notice>}
      {verifyJob && (
        <section className="panel" aria-labelledby="verify-progress-title">
          <h2 id="verify-progress-title">Verification</h2>
          <JobProgress jobId={verifyJob} kind="verify" onDone={jobs.reload} />
        </section>
      )}
      {backup && (
        <div className="grid-2">
          <section className="panel" aria-labelledby="facts-title">
            <h2 id="facts-title">Facts</h2>
            <dl className="facts">
              <dt>Source</dt>
              <dd>
                <code>{sources.data?.sources.find((s) => s.id === backup.sourceId)?.location ?? backup.sourceId}</code>
              </dd>
              <dt>Level</dt>
              <dd>
                {backup.level}
                {backup.parentId && (
                  <>
                    {' '}
                    (after <Link to={`/backups/${encodeURIComponent(backup.parentId)}`}>{backup.parentId}</Link>)
                  </>
                )}
              </dd>
              <dt>Started</dt>
              <dd>
                <Time value={backup.createdAt} />
              </dd>
              <dt>Completed</dt>
              <dd>
                <Time value={backup.completedAt} />
              </dd>
              <dt>Files, directories</dt>
              <dd>
                {backup.files.toLocaleString()}, {backup.dirs.toLocaleString()}
              </dd>
              <dt>Read, stored, archive</dt>
              <dd>
                <Bytes value={backup.bytesIn} />, <Bytes value={backup.bytesStored} />, <Bytes value={backup.archiveSize} />
              </dd>
              <dt>Tags</dt>
              <dd>{backup.tags.length ? backup.tags.join(', ') : '—'}</dd>
              <dt>Archive SHA-256</dt>
              <dd className="hash">{backup.archiveSha256}</dd>
            </dl>
          </section>
          <section className="panel" aria-labelledby="verify-title">
            <h2 id="verify-title">Verify results</h2>
            {!can('jobs:read') ? (
              <p className="muted">Your roles do not include reading jobs, where verify results are kept.</p>
            ) : (
              <DataTable<JobRecord>
                caption="Verifications of this backup, newest first"
                rows={verifications}
                rowKey={(j) => j.id}
                empty="Not verified since it was stored (every backup is verified once as it is written)."
                columns={[
                  { key: 'when', header: 'Requested', cell: (j) => <Time value={j.createdAt} /> },
                  { key: 'deep', header: 'Depth', cell: (j) => (j.params.deep ? 'deep (decrypts)' : 'objects and hashes') },
                  { key: 'status', header: 'Result', cell: (j) => <StatusBadge status={verifyStatusOfJob(j)} tone={STATUS_TONE[verifyStatusOfJob(j)]} /> },
                  { key: 'problem', header: 'Problem', cell: (j) => String(j.result?.problem ?? j.error?.message ?? '—') },
                ]}
              />
            )}
          </section>
        </div>
      )}
      {detail.data && (
        <section className="panel" aria-labelledby="entries-title">
          <h2 id="entries-title">Entries</h2>
          <Field label="Filter entries" type="search" value={search} onChange={(e) => setSearch(e.target.value)} placeholder="part of a path" />
          <DataTable<BackupEntry>
            caption={`Entries (${entries.length} of ${detail.data.entries.length})`}
            showCaption
            rows={entries}
            rowKey={(e) => e.path}
            columns={[
              { key: 'path', header: 'Path', cell: (e) => <code>{e.path}</code> },
              { key: 'type', header: 'Type', cell: (e) => (e.type === 'symlink' ? `symlink → ${e.linkTarget ?? '?'}` : e.type) },
              { key: 'mode', header: 'Mode', cell: (e) => <code>{(e.mode & 0o7777).toString(8).padStart(4, '0')}</code> },
              { key: 'size', header: 'Size', numeric: true, cell: (e) => (e.type === 'file' ? <Bytes value={e.size} /> : '—') },
              { key: 'sha', header: 'SHA-256', cell: (e) => (e.sha256 ? <span className="hash" title={e.sha256}>{e.sha256.slice(0, 16)}…</span> : '—') },
            ]}
          />
        </section>
      )}
    </Screen>
  );
}
