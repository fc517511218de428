import { useState } from 'react';
import type { FormEvent } from 'react';
import { ApiError, api, authorizedFetch, errorOf } from '../../api/client';
import type { Query } from '../../api/client';
import { DataTable } from '../../components/DataTable';
import { Field, Labeled } from '../../components/Field';
import { Notice } from '../../components/Notice';
import { Screen } from '../../components/Screen';
import { StatusBadge } from '../../components/StatusBadge';
import { Time } from '../../components/Time';
import { fromLocalInput } from '../restore/local-time';
import { ChainStatus } from './ChainStatus';
import './audit.css';

/** One audit entry (GET /v1/audit/entries). */
interface AuditEntry {
  seq: number;
  time: string;
  actor: { user: string; roles: string[]; ip: string | null };
  action: string;
  target: string;
  outcome: 'success' | 'failure' | 'denied';
  details?: Record<string, unknown>;
}

interface Filters {
  actor: string;
  action: string;
  target: string;
  outcome: string;
  since: string;
  until: string;
}

const EMPTY: Filters = { actor: '', action: '', target: '', outcome: '', since: '', until: '' };
const PAGE = 100;

/** The filters as query parameters (local times converted to UTC). */
function toQuery(f: Filters): Query {
  return { actor: f.actor, action: f.action, target: f.target, outcome: f.outcome, since: fromLocalInput(f.since), until: fromLocalInput(f.until) };
}

/** Audit: search the tamper-evident log, see whether its chain verifies, export the matches. */
export function AuditScreen() {
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const [entries, setEntries] = useState<AuditEntry[]>();
  const [next, setNext] = useState<number | null>(null);
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  async function search(from: number, append: boolean) {
    setBusy(true);
    setError(undefined);
    try {
      const page = await api<{ entries: AuditEntry[]; next: number | null }>('/audit/entries', { query: { ...toQuery(filters), from, limit: PAGE } });
      setEntries((before) => (append ? [...(before ?? []), ...page.entries] : page.entries));
      setNext(page.next);
    } catch (cause) {
      setError(cause instanceof ApiError ? cause.message : String(cause));
    } finally {
      setBusy(false);
    }
  }

  async function exportAs(format: 'jsonl' | 'csv') {
    setError(undefined);
    // A plain link cannot send the bearer token: fetch the stream, then hand the browser a blob to save.
    const res = await authorizedFetch('/audit/entries', { query: { ...toQuery(filters), format } });
    if (!res.ok) {
      setError((await errorOf(res)).message);
      return;
    }
    const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? `tresor-audit.${format}`;
    const url = URL.createObjectURL(await res.blob());
    const link = document.createElement('a');
    link.href = url;
    link.download = name;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  const set = (key: keyof Filters) => (e: { target: { value: string } }) => setFilters((f) => ({ ...f, [key]: e.target.value }));
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    void search(1, false);
  };

  return (
    <Screen title="Audit">
      <ChainStatus />
      <form className="panel" onSubmit={onSubmit} aria-label="Search the audit log">
        <h2>Search</h2>
        <div className="grid-2">
          <Field label="Actor" hint="Part of the user name." value={filters.actor} onChange={set('actor')} />
          <Field label="Action" hint="Part of the action, e.g. approvals. or restores:create." value={filters.action} onChange={set('action')} />
          <Field label="Target" hint="Part of the target (a source, a request id…)." value={filters.target} onChange={set('target')} />
          <Labeled label="Outcome">
            {(props) => (
              <select {...props} value={filters.outcome} onChange={set('outcome')}>
                <option value="">Any</option>
                <option value="success">success</option>
                <option value="failure">failure</option>
                <option value="denied">denied</option>
              </select>
            )}
          </Labeled>
          <Field label="From (your time zone)" type="datetime-local" step={1} value={filters.since} onChange={set('since')} />
          <Field label="Until (your time zone)" type="datetime-local" step={1} value={filters.until} onChange={set('until')} />
        </div>
        <div className="screen-actions">
          <button type="submit" className="button" disabled={busy}>
            Search
          </button>
          <button type="button" className="button secondary" onClick={() => void exportAs('jsonl')}>
            Export JSON lines
          </button>
          <button type="button" className="button secondary" onClick={() => void exportAs('csv')}>
            Export CSV
          </button>
        </div>
      </form>
      {error && <Notice kind="error">{error}</Notice>}
      {entries && (
        <>
          <DataTable
            caption={`Audit entries matching the search (${entries.length}${next ? '+' : ''})`}
            showCaption
            rows={entries}
            rowKey={(e) => String(e.seq)}
            empty="No entry matches."
            columns={[
              { key: 'seq', header: '#', numeric: true, cell: (e) => e.seq },
              { key: 'time', header: 'Time', cell: (e) => <Time value={e.time} /> },
              { key: 'actor', header: 'Actor', cell: (e) => e.actor.user },
              { key: 'action', header: 'Action', cell: (e) => <code className="audit-action">{e.action}</code> },
              { key: 'target', header: 'Target', cell: (e) => <code>{e.target}</code> },
              { key: 'outcome', header: 'Outcome', cell: (e) => <StatusBadge status={e.outcome} /> },
              { key: 'details', header: 'Details', cell: (e) => (e.details ? <code className="audit-details">{JSON.stringify(e.details)}</code> : '—') },
            ]}
          />
          {next !== null && (
            <button type="button" className="button secondary" disabled={busy} onClick={() => void search(next, true)}>
              More
            </button>
          )}
        </>
      )}
    </Screen>
  );
}
