import { useApi } from '../../api/useApi';
import { LoadState, Notice } from '../../components/Notice';
import { StatusBadge } from '../../components/StatusBadge';
import { formatCount } from '../../components/format';
import { plural } from '../restore/plural';

/** GET /v1/audit/verify → report. */
interface VerifyReport {
  ok: boolean;
  entries: number;
  checkpoints: number;
  lastSeq: number;
  lastCheckpointSeq: number;
  unprotectedEntries: number;
  problem?: { kind: string; seq: number; message: string };
}

/** Whether the audit hash chain and its signed checkpoints verify (recomputed by the audit service on each visit). */
export function ChainStatus() {
  const verify = useApi<{ report: VerifyReport }>('/audit/verify');
  const r = verify.data?.report;
  return (
    <section className="panel" aria-labelledby="chain-title">
      <h2 id="chain-title">Chain verification</h2>
      <LoadState loading={verify.loading && !r} error={verify.error} what="the chain verification" />
      {r && (
        <div data-testid="chain-status">
          <p>
            <StatusBadge status={r.ok ? 'verified' : 'failed'} label={r.ok ? 'chain intact' : 'chain broken'} /> {plural(r.entries, 'entry', 'entries')}, {plural(r.checkpoints, 'signed checkpoint')}; the last checkpoint covers entry {formatCount(r.lastCheckpointSeq)} of {formatCount(r.lastSeq)}
            {r.unprotectedEntries > 0 ? ` (${plural(r.unprotectedEntries, 'newer entry', 'newer entries')} not yet under a signature)` : ''}.
          </p>
          {r.problem && <Notice kind="error">{r.problem.message}</Notice>}
        </div>
      )}
      <button type="button" className="button secondary" onClick={verify.reload} disabled={verify.loading}>
        Verify again
      </button>
    </section>
  );
}
