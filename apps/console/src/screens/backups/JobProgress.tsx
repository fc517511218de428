// A job's live progress (from the event stream) in a polite live region.
import { useEffect } from 'react';
import { Link } from 'react-router';
import { Bytes } from '../../components/Bytes';
import { Notice } from '../../components/Notice';
import { StatusBadge } from '../../components/StatusBadge';
import { useJobEvents } from './useJobEvents';

const PHASE_LABEL: Record<string, string> = {
  waiting: 'waiting for the first event',
  requested: 'queued',
  running: 'running',
  uploaded: 'uploaded, verifying',
  completed: 'completed',
  failed: 'failed',
};

/** Progress of backup or verify job `jobId`; `onDone` runs once it completes or fails. */
export function JobProgress({ jobId, kind, onDone }: { jobId: string; kind: 'backup' | 'verify'; onDone?: () => void }) {
  const { progress, error } = useJobEvents(jobId);
  const final = progress.phase === 'completed' || progress.phase === 'failed';
  useEffect(() => {
    if (final) onDone?.();
    // Once per end; a new onDone identity must not fire it again.
  }, [final]);
  return (
    <div className="job-progress" aria-live="polite" data-testid="job-progress" data-phase={progress.phase}>
      <p>
        <StatusBadge status={progress.phase === 'waiting' || progress.phase === 'requested' ? 'queued' : progress.phase === 'uploaded' ? 'running' : progress.phase} label={PHASE_LABEL[progress.phase]} /> {kind} job <code>{jobId}</code>
      </p>
      {progress.files !== undefined && (
        <p>
          {progress.files} files, <Bytes value={progress.bytesIn} /> read{progress.bytesStored !== undefined && <>, <Bytes value={progress.bytesStored} /> stored</>}
        </p>
      )}
      {kind === 'backup' && progress.phase === 'completed' && progress.backupId && (
        <p>
          Backup <Link to={`/backups/${encodeURIComponent(progress.backupId)}`}>{progress.backupId}</Link> is stored and verified.
        </p>
      )}
      {kind === 'verify' && progress.phase === 'completed' && (
        <p>{progress.ok ? 'The backup verified.' : `The backup did not verify: ${progress.problem ?? 'see the job'}`}</p>
      )}
      {progress.error && <Notice kind="error">{progress.error}</Notice>}
      {error && !final && <Notice kind="error">{error}</Notice>}
    </div>
  );
}
