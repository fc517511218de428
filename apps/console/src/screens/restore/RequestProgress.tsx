// After "Request restore": the dual-control state (approvals so far) and then the job's progress
// and result, polled from the gateway until they are final.
import { useEffect, useState } from 'react';
import { ApiError, api } from '../../api/client';
import { Bytes } from '../../components/Bytes';
import { Duration } from '../../components/Duration';
import { Notice } from '../../components/Notice';
import { StatusBadge } from '../../components/StatusBadge';
import { Time } from '../../components/Time';
import { approvalCount } from '../approvals/approval';
import { plural } from './plural';
import type { ApprovalRequest, RestoreJob } from '../approvals/approval';

const POLL_MS = 1000;
const FINAL_APPROVAL = new Set(['executed', 'rejected', 'expired']);
const FINAL_JOB = new Set(['completed', 'failed']);

/** Polls `load` every second until `done` says the value is final. */
function usePolled<T>(load: (() => Promise<T>) | null, key: string, done: (value: T) => boolean): { value: T | undefined; error: string | undefined } {
  const [value, setValue] = useState<T>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    if (!load) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      try {
        const v = await load();
        if (stopped) return;
        setValue(v);
        setError(undefined);
        if (done(v)) return;
      } catch (cause) {
        if (stopped) return;
        setError(cause instanceof ApiError ? cause.message : String(cause));
      }
      timer = setTimeout(() => void tick(), POLL_MS);
    };
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
    // `load` and `done` are recreated each render; `key` says when the thing to poll changes.
  }, [key]);
  return { value, error };
}

/** The state of a submitted restore: its approval request (dual control) and its job. */
export function RequestProgress({ approval: initial, jobId: directJobId }: { approval?: ApprovalRequest; jobId?: string }) {
  const approval = usePolled(initial ? () => api<{ approval: ApprovalRequest }>(`/restores/requests/${encodeURIComponent(initial.id)}`).then((r) => r.approval) : null, initial?.id ?? '', (a) => FINAL_APPROVAL.has(a.state));
  const request = approval.value ?? initial;
  const jobId = directJobId ?? request?.jobId ?? undefined;
  const job = usePolled(jobId ? () => api<{ job: RestoreJob }>(`/restores/${encodeURIComponent(jobId)}`).then((r) => r.job) : null, jobId ?? '', (j) => FINAL_JOB.has(j.state));

  return (
    <section className="panel" aria-labelledby="progress-title" aria-live="polite">
      <h2 id="progress-title">Your restore</h2>
      {request && (
        <div>
          <h3>Approval</h3>
          <p data-testid="approval-state">
            <StatusBadge status={request.state} /> {approvalCount(request)}; request <code>{request.id}</code>, expires <Time value={request.expiresAt} />.
          </p>
          {request.state === 'pending' && <p className="muted">Custodians see it on their Approvals screen; it runs once {request.requiredApprovals} of them approve.</p>}
          {request.rejection && (
            <Notice kind="error">
              Rejected by {request.rejection.name}: {request.rejection.reason}
            </Notice>
          )}
          {request.state === 'expired' && <Notice kind="error">Not enough custodians approved in time; the request expired.</Notice>}
        </div>
      )}
      {approval.error && <Notice kind="error">Could not refresh the request: {approval.error}</Notice>}
      {jobId && (
        <div>
          <h3>Job</h3>
          <p data-testid="job-state">
            <StatusBadge status={job.value?.state ?? 'queued'} /> job <code>{jobId}</code>
            {job.value && (
              <>
                , updated <Time value={job.value.updatedAt} />
              </>
            )}
          </p>
          {job.value?.state === 'completed' && job.value.result && (
            <p>
              {job.value.result.dryRun ? 'Dry run: would restore' : 'Restored'} {plural(job.value.result.files ?? 0, 'file')} (<Bytes value={job.value.result.bytes} />) in <Duration ms={job.value.result.durationMs} />.
            </p>
          )}
          {job.value?.error && <Notice kind="error">The restore failed: {job.value.error.message}</Notice>}
          {job.error && <Notice kind="error">Could not refresh the job: {job.error}</Notice>}
        </div>
      )}
    </section>
  );
}
