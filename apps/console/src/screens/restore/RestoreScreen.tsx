import { useMemo, useState } from 'react';
import type { FormEvent } from 'react';
import { ApiError, api } from '../../api/client';
import { useApi } from '../../api/useApi';
import { Bytes } from '../../components/Bytes';
import { DataTable } from '../../components/DataTable';
import { Field, Labeled } from '../../components/Field';
import { LoadState, Notice } from '../../components/Notice';
import { Screen } from '../../components/Screen';
import { StatusBadge } from '../../components/StatusBadge';
import { Time } from '../../components/Time';
import { formatCount } from '../../components/format';
import { plural } from './plural';
import type { ApprovalRequest, RestoreJob } from '../approvals/approval';
import { RequestProgress } from './RequestProgress';
import { Timeline } from './Timeline';
import type { ListedBackup } from './Timeline';
import { patterns, usePreview } from './usePreview';
import { fromLocalInput, toLocalInput } from './local-time';
import './restore.css';

interface Source {
  id: string;
  location: string;
  tenant?: string;
  sensitive?: boolean;
}

type Submitted = { approval: ApprovalRequest } | { job: RestoreJob };

/** Restore: a source, a point in time on its timeline, entries by pattern with a live preview, dry run, then the request. */
export function RestoreScreen() {
  const sources = useApi<{ sources: Source[] }>('/sources');
  const [source, setSource] = useState('');
  const backups = useApi<{ backups: ListedBackup[] }>(source ? '/backups' : null, { source });
  const [at, setAt] = useState<string>();
  const [include, setInclude] = useState('');
  const [exclude, setExclude] = useState('');
  const [target, setTarget] = useState('');
  const [overwrite, setOverwrite] = useState(false);
  const [submitting, setSubmitting] = useState(false);
  const [submitError, setSubmitError] = useState<string>();
  const [submitted, setSubmitted] = useState<Submitted & { dryRun: boolean }>();

  const list = useMemo(() => (backups.data?.backups ?? []).filter((b) => b.source === undefined || b.source === source), [backups.data, source]);
  // The point in time defaults to the newest backup; the backup shown is the newest not after it.
  const pointInTime = at ?? list[list.length - 1]?.createdAt;
  const chosen = pointInTime ? [...list].reverse().find((b) => Date.parse(b.createdAt) <= Date.parse(pointInTime)) : undefined;
  const selection = source && pointInTime ? { source, at: pointInTime, include: patterns(include), exclude: patterns(exclude) } : null;
  const { preview, error: previewError, loading: previewLoading } = usePreview(selection);
  const sensitive = sources.data?.sources.find((s) => s.location === source)?.sensitive ?? false;

  function pickSource(location: string) {
    setSource(location);
    setAt(undefined);
    setSubmitted(undefined);
  }

  async function submit(event: FormEvent, dryRun: boolean) {
    event.preventDefault();
    if (!selection) return;
    setSubmitting(true);
    setSubmitError(undefined);
    setSubmitted(undefined);
    try {
      const body = { source, at: selection.at, target, include: selection.include, exclude: selection.exclude, dryRun, overwrite };
      const r = await api<Submitted>('/restores', { method: 'POST', body });
      setSubmitted({ ...r, dryRun });
    } catch (cause) {
      setSubmitError(cause instanceof ApiError ? cause.message : String(cause));
    } finally {
      setSubmitting(false);
    }
  }

  return (
    <Screen title="Restore">
      <LoadState loading={sources.loading && !sources.data} error={sources.error} what="sources" />
      <form className="panel" onSubmit={(e) => void submit(e, false)} aria-label="Restore request">
        <h2>1. What to restore</h2>
        <Labeled label="Source">
          {(props) => (
            <select {...props} value={source} onChange={(e) => pickSource(e.target.value)} required>
              <option value="">Choose a source…</option>
              {(sources.data?.sources ?? []).map((s) => (
                <option key={s.id} value={s.location}>
                  {s.location}
                  {s.sensitive ? ' (dual control)' : ''}
                </option>
              ))}
            </select>
          )}
        </Labeled>
        {source && (
          <>
            <h2>2. Point in time</h2>
            <LoadState loading={backups.loading && !backups.data} error={backups.error} what="backups" />
            <Timeline backups={list} selectedId={chosen?.id} onSelect={(b) => setAt(b.createdAt)} />
            <Field
              label="Point in time (your time zone)"
              hint="The newest backup taken at or before this time is restored."
              type="datetime-local"
              step={1}
              value={pointInTime ? toLocalInput(pointInTime) : ''}
              onChange={(e) => {
                const iso = fromLocalInput(e.target.value);
                if (iso) setAt(iso);
              }}
            />
            {chosen ? (
              <p data-testid="chosen-backup">
                Backup <code>{chosen.id}</code> ({chosen.level}) of <Time value={chosen.createdAt} />, {plural(chosen.files, 'file')}, <Bytes value={chosen.bytesIn} />.
              </p>
            ) : (
              pointInTime && <Notice kind="error">No backup of this source was taken at or before that time.</Notice>
            )}

            <h2>3. Entries</h2>
            <div className="grid-2">
              <Field label="Include patterns" hint="Comma-separated globs; *.key matches at any depth. Empty: everything." value={include} onChange={(e) => setInclude(e.target.value)} />
              <Field label="Exclude patterns" hint="Comma-separated globs left out." value={exclude} onChange={(e) => setExclude(e.target.value)} />
            </div>
            <Preview preview={preview} error={previewError?.message} loading={previewLoading} />

            <h2>4. Where</h2>
            <Field label="Target directory" hint="An absolute path on the hosts running the recovery service." required pattern="/.*" value={target} onChange={(e) => setTarget(e.target.value)} />
            <label className="checkbox">
              <input type="checkbox" checked={overwrite} onChange={(e) => setOverwrite(e.target.checked)} /> Overwrite a target that is not empty
            </label>
            {sensitive && <Notice kind="info">This source is under dual control: the restore (and a dry run) waits for custodians to approve it.</Notice>}
            {submitError && <Notice kind="error">{submitError}</Notice>}
            <div className="restore-actions">
              <button type="button" className="button secondary" disabled={submitting || !chosen || target === ''} onClick={(e) => void submit(e, true)}>
                Dry run
              </button>
              <button type="submit" className="button" disabled={submitting || !chosen || target === ''}>
                Request restore
              </button>
            </div>
          </>
        )}
      </form>
      {submitted && <RequestProgress key={'approval' in submitted ? submitted.approval.id : submitted.job.id} {...('approval' in submitted ? { approval: submitted.approval } : { jobId: submitted.job.id })} />}
    </Screen>
  );
}

/** Totals and the first entries the patterns select. */
function Preview({ preview, error, loading }: { preview: ReturnType<typeof usePreview>['preview']; error: string | undefined; loading: boolean }) {
  return (
    <section aria-labelledby="preview-title" aria-busy={loading}>
      <h3 id="preview-title">Preview {loading && <span className="muted">(updating…)</span>}</h3>
      {error && <Notice kind="error">{error}</Notice>}
      {preview && (
        <>
          <p className="preview-totals" role="status" data-testid="preview-totals">
            {plural(preview.totals.files, 'file')}, {plural(preview.totals.dirs, 'directory', 'directories')}, {plural(preview.totals.symlinks, 'symlink')} (<Bytes value={preview.totals.bytes} />) from backup <code>{preview.backup.id}</code> of <Time value={preview.backup.createdAt} />
            {preview.sensitive && (
              <>
                {' '}
                <StatusBadge status="dual control" tone="warn" />
              </>
            )}
          </p>
          <DataTable
            caption="Entries that would be restored"
            rows={preview.entries}
            rowKey={(e) => e.path}
            empty="The patterns select nothing in this backup."
            columns={[
              { key: 'path', header: 'Path', cell: (e) => <code>{e.path}</code> },
              { key: 'type', header: 'Type', cell: (e) => e.type },
              { key: 'size', header: 'Size', numeric: true, cell: (e) => (e.type === 'file' ? <Bytes value={e.size} /> : '—') },
            ]}
          />
          {preview.truncated && <p className="muted">Showing the first {preview.entries.length} of {formatCount(preview.totals.entries)} entries.</p>}
        </>
      )}
    </section>
  );
}
