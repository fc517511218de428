import { useState } from 'react';
import { useApi } from '../../api/useApi';
import { Can } from '../../components/Can';
import { DataTable } from '../../components/DataTable';
import { LoadState } from '../../components/Notice';
import { Screen } from '../../components/Screen';
import { StatusBadge } from '../../components/StatusBadge';
import { Time } from '../../components/Time';
import { Labeled } from '../../components/Field';
import { approvalCount, patternsOf } from './approval';
import type { ApprovalRequest, ApprovalState } from './approval';
import { DecisionPanel } from './DecisionPanel';

const FILTERS: { value: ApprovalState | ''; label: string }[] = [
  { value: 'pending', label: 'Pending' },
  { value: '', label: 'All' },
  { value: 'executed', label: 'Executed' },
  { value: 'rejected', label: 'Rejected' },
  { value: 'expired', label: 'Expired' },
];

/** Dual control: restore requests of sensitive sources; custodians approve (re-entering their password) or reject. */
export function ApprovalsScreen() {
  const [state, setState] = useState<ApprovalState | ''>('pending');
  const [selected, setSelected] = useState<ApprovalRequest>();
  const list = useApi<{ approvals: ApprovalRequest[] }>('/approvals', { state });
  const rows = list.data?.approvals ?? [];
  // The decided request stays on screen after it leaves the filtered list.
  const current = rows.find((r) => r.id === selected?.id) ?? selected;

  return (
    <Screen
      title="Approvals"
      actions={
        <button type="button" className="button secondary" onClick={list.reload}>
          Refresh
        </button>
      }
    >
      <p className="muted">Restores of sensitive sources wait here until enough custodians approve them. The requester can never approve their own request.</p>
      <Labeled label="Show">
        {(props) => (
          <select {...props} value={state} onChange={(e) => setState(e.target.value as ApprovalState | '')}>
            {FILTERS.map((f) => (
              <option key={f.label} value={f.value}>
                {f.label}
              </option>
            ))}
          </select>
        )}
      </Labeled>
      <LoadState loading={list.loading && !list.data} error={list.error} what="approval requests" />
      <DataTable
        caption="Restore requests under dual control"
        rows={rows}
        rowKey={(r) => r.id}
        onActivate={setSelected}
        empty="No restore requests in this state."
        columns={[
          { key: 'created', header: 'Requested', cell: (r) => <Time value={r.createdAt} /> },
          { key: 'requester', header: 'By', cell: (r) => r.requester.name },
          { key: 'source', header: 'Source', cell: (r) => <code>{r.source}</code> },
          { key: 'what', header: 'Entries', cell: (r) => patternsOf(r) },
          { key: 'target', header: 'Target', cell: (r) => <code>{r.restore.target}</code> },
          { key: 'count', header: 'Approvals', cell: (r) => approvalCount(r) },
          { key: 'state', header: 'State', cell: (r) => <StatusBadge status={r.state} /> },
          { key: 'expires', header: 'Expires', cell: (r) => <Time value={r.expiresAt} /> },
        ]}
      />
      {current && (
        <Can permission="approvals:decide" fallback={<p className="muted">Only custodians approve or reject restore requests.</p>}>
          <DecisionPanel
            key={current.id}
            request={current}
            onDecided={(updated) => {
              setSelected(updated);
              list.reload();
            }}
          />
        </Can>
      )}
    </Screen>
  );
}
