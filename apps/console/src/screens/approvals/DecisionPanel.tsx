import { useState } from 'react';
import type { FormEvent } from 'react';
import { ApiError, api } from '../../api/client';
import { useSession } from '../../auth/session-context';
import { Field } from '../../components/Field';
import { Notice } from '../../components/Notice';
import { StatusBadge } from '../../components/StatusBadge';
import { approvalCount, patternsOf } from './approval';
import type { ApprovalRequest, RestoreJob } from './approval';

/** Approve (with the custodian's password again) or reject (with a reason) one pending request. */
export function DecisionPanel({ request, onDecided }: { request: ApprovalRequest; onDecided: (updated: ApprovalRequest) => void }) {
  const { me } = useSession();
  const [password, setPassword] = useState('');
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ kind: 'info' | 'error'; text: string }>();
  const own = request.requester.subject === me.subject;
  const decided = request.approvals.some((a) => a.subject === me.subject);

  async function decide(event: FormEvent, action: 'approve' | 'reject') {
    event.preventDefault();
    setBusy(true);
    setMessage(undefined);
    try {
      if (action === 'approve') {
        const r = await api<{ approval: ApprovalRequest; job: RestoreJob | null }>(`/approvals/${encodeURIComponent(request.id)}/approve`, { method: 'POST', body: { password } });
        setMessage({ kind: 'info', text: r.job ? `Approved: the restore is queued as job ${r.job.id}.` : `Approved: ${approvalCount(r.approval)}.` });
        onDecided(r.approval);
      } else {
        const r = await api<{ approval: ApprovalRequest }>(`/approvals/${encodeURIComponent(request.id)}/reject`, { method: 'POST', body: { reason } });
        setMessage({ kind: 'info', text: 'Rejected: this restore will never run.' });
        onDecided(r.approval);
      }
    } catch (cause) {
      setMessage({ kind: 'error', text: cause instanceof ApiError ? cause.message : String(cause) });
    } finally {
      setPassword('');
      setBusy(false);
    }
  }

  return (
    <section className="panel" aria-labelledby="decision-title">
      <h2 id="decision-title">Request {request.id}</h2>
      <p>
        <StatusBadge status={request.state} /> {request.requester.name} asks to restore <strong>{patternsOf(request)}</strong> of <code>{request.source}</code> (backup <code>{request.backupId}</code>) into <code>{request.restore.target}</code>
        {request.restore.overwrite ? ', overwriting what is there' : ''}. {approvalCount(request)}.
      </p>
      {message && <Notice kind={message.kind}>{message.text}</Notice>}
      {request.state !== 'pending' ? (
        <p className="muted">This request is {request.state}; there is nothing left to decide.</p>
      ) : own ? (
        <Notice kind="error">You requested this restore, so you cannot approve it: dual control needs other custodians.</Notice>
      ) : decided ? (
        <p className="muted">You have approved this request; it waits for another custodian.</p>
      ) : (
        <div className="grid-2">
          <form onSubmit={(e) => void decide(e, 'approve')} aria-label="Approve">
            <Field label="Your password" hint="Approving needs your password again (re-authentication)." type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
            <button type="submit" className="button" disabled={busy || password === ''}>
              Approve
            </button>
          </form>
          <form onSubmit={(e) => void decide(e, 'reject')} aria-label="Reject">
            <Field label="Reason for rejecting" maxLength={500} required value={reason} onChange={(e) => setReason(e.target.value)} />
            <button type="submit" className="button secondary" disabled={busy || reason.trim() === ''}>
              Reject
            </button>
          </form>
        </div>
      )}
    </section>
  );
}
