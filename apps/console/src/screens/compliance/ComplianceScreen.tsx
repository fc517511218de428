// Compliance: the report the monitoring service evaluates (docs/compliance.md), each finding with
// its evidence, linked to the screen or backup it rests on; the HTML report as a download.
import { useState } from 'react';
import { Link } from 'react-router';
import { ApiError, authorizedFetch, errorOf } from '../../api/client';
import { useApi } from '../../api/useApi';
import { DataTable } from '../../components/DataTable';
import { LoadState, Notice } from '../../components/Notice';
import { Screen } from '../../components/Screen';
import { StatusBadge } from '../../components/StatusBadge';
import { Time } from '../../components/Time';
import { controlLink, evidenceLink } from './compliance';
import type { ComplianceReport, Finding } from './compliance';
import './compliance.css';

function Evidence({ evidence }: { evidence: Finding['evidence'] }) {
  const entries = Object.entries(evidence);
  if (entries.length === 0) return <span className="muted">—</span>;
  return (
    <dl className="evidence">
      {entries.map(([key, value]) => {
        const link = evidenceLink(key, value);
        return (
          <div key={key}>
            <dt>{key}</dt>
            <dd>{link ? <Link to={link}>{String(value)}</Link> : String(value)}</dd>
          </div>
        );
      })}
    </dl>
  );
}

const columns = [
  { key: 'control', header: 'Control', cell: (f: Finding) => <code>{f.control}</code> },
  { key: 'status', header: 'Status', cell: (f: Finding) => <StatusBadge status={f.status} tone={f.status === 'pass' ? 'ok' : f.status === 'fail' ? 'bad' : 'neutral'} /> },
  { key: 'summary', header: 'Finding', cell: (f: Finding) => f.summary },
  { key: 'evidence', header: 'Evidence', cell: (f: Finding) => <Evidence evidence={f.evidence} /> },
  {
    key: 'see',
    header: 'See',
    cell: (f: Finding) => {
      const link = controlLink(f.control);
      return link ? <Link to={link.path}>{link.label}</Link> : <span className="muted">—</span>;
    },
  },
];

/** Fetches the HTML report with the session's token (a plain link could not send it) and saves it. */
async function downloadHtml(): Promise<void> {
  const res = await authorizedFetch('/compliance/report', { query: { format: 'html' } });
  if (!res.ok) throw await errorOf(res);
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = `tresor-compliance-${new Date().toISOString().slice(0, 10)}.html`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The Compliance screen. */
export function ComplianceScreen() {
  const report = useApi<{ report: ComplianceReport }>('/compliance/report');
  const [error, setError] = useState<string>();
  const r = report.data?.report;
  return (
    <Screen
      title="Compliance"
      actions={
        <>
          <button type="button" className="button secondary" onClick={report.reload}>
            Evaluate again
          </button>
          <button type="button" className="button" onClick={() => void downloadHtml().catch((e: unknown) => setError(e instanceof ApiError ? e.message : String(e)))}>
            Download HTML report
          </button>
        </>
      }
    >
      {error && <Notice kind="error">{error}</Notice>}
      <LoadState loading={report.loading} error={report.error} what="the compliance report (every control is evaluated now)" />
      {r && (
        <>
          <section className="panel compliance-totals" aria-label="Totals">
            <p>
              Repository <code>{r.repositoryId}</code>, evaluated <Time value={r.generatedAt} />.
            </p>
            <ul className="totals">
              {(['pass', 'fail', 'not-evaluated', 'not-applicable'] as const).map((s) => (
                <li key={s}>
                  <StatusBadge status={s} tone={s === 'pass' ? 'ok' : s === 'fail' ? 'bad' : 'neutral'} label={`${r.totals[s]} ${s}`} />
                </li>
              ))}
            </ul>
          </section>
          <h2>Repository</h2>
          <DataTable caption="Controls of the repository" columns={columns} rows={r.repository} rowKey={(f) => f.control} />
          {r.sources.map((s) => (
            <section key={s.source}>
              <h2>
                Source <code>{s.source}</code>
                {s.tenant ? <span className="muted"> (tenant {s.tenant})</span> : null}
              </h2>
              <DataTable caption={`Controls of source ${s.source}`} columns={columns} rows={s.findings} rowKey={(f) => f.control} />
            </section>
          ))}
          {r.sources.length === 0 && <Notice kind="info">No source has a backup yet: only the repository's controls are evaluated.</Notice>}
        </>
      )}
    </Screen>
  );
}
