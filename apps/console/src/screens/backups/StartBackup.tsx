// "Start backup" (operators): pick a source (or give a new path), a level, submit, then follow
// the job's progress live until it completes.
import { useState } from 'react';
import type { FormEvent } from 'react';
import { ApiError, api } from '../../api/client';
import { Field } from '../../components/Field';
import { Notice } from '../../components/Notice';
import { LEVELS } from './backups';
import type { JobRecord, SourceRecord } from './backups';
import { JobProgress } from './JobProgress';
import { SelectField } from './SelectField';

const NEW_SOURCE = '__new__';

/** The start form and, once submitted, the job's progress; `onCompleted` reloads the list. */
export function StartBackup({ sources, onCompleted, onClose }: { sources: SourceRecord[]; onCompleted: () => void; onClose: () => void }) {
  const [choice, setChoice] = useState(sources[0]?.location ?? NEW_SOURCE);
  const [path, setPath] = useState('');
  const [level, setLevel] = useState<(typeof LEVELS)[number]>('incremental');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [jobId, setJobId] = useState<string>();
  const tenantOf = new Map(sources.map((s) => [s.location, s.tenant]));
  const location = choice === NEW_SOURCE ? path.trim() : choice;
  const pathError = choice === NEW_SOURCE && path !== '' && !location.startsWith('/') ? 'an absolute path, e.g. /etc/tresor/keys' : undefined;

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!location.startsWith('/')) return setError('Choose a source or give its absolute path.');
    setBusy(true);
    setError(undefined);
    try {
      const { job } = await api<{ job: JobRecord }>('/backups', { method: 'POST', body: { source: { kind: 'filesystem', location }, level } });
      setJobId(job.id);
    } catch (cause) {
      setError(cause instanceof ApiError ? cause.message : String(cause));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="panel" aria-labelledby="start-backup-title">
      <h2 id="start-backup-title">Start a backup</h2>
      {!jobId ? (
        <form onSubmit={(e) => void submit(e)} className="start-backup-form">
          <SelectField
            label="Source"
            hint="Sources you may back up; a new path becomes a source of your default tenant."
            value={choice}
            options={[...sources.map((s) => s.location), NEW_SOURCE]}
            labelOf={(l) => (l === NEW_SOURCE ? 'Another path…' : `${l}${tenantOf.get(l) ? ` (${tenantOf.get(l)})` : ''}`)}
            onChange={(c) => setChoice(c || NEW_SOURCE)}
          />
          {choice === NEW_SOURCE && <Field label="Path on the backup hosts" value={path} onChange={(e) => setPath(e.target.value)} placeholder="/etc/tresor/keys" error={pathError} required />}
          <SelectField
            label="Level"
            hint="full copies everything; differential what changed since the last full; incremental since the last backup."
            value={level}
            options={LEVELS}
            onChange={(l) => setLevel(l || 'incremental')}
          />
          {error && <Notice kind="error">{error}</Notice>}
          <div className="form-actions">
            <button type="submit" className="button" disabled={busy || !!pathError}>
              {busy ? 'Starting…' : 'Start backup'}
            </button>
            <button type="button" className="button secondary" onClick={onClose}>
              Cancel
            </button>
          </div>
        </form>
      ) : (
        <>
          <JobProgress jobId={jobId} kind="backup" onDone={onCompleted} />
          <div className="form-actions">
            <button type="button" className="button secondary" onClick={onClose}>
              Close
            </button>
          </div>
        </>
      )}
    </section>
  );
}
