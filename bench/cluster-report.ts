import type { ClusterBenchResult } from './cluster-bench.js';

/** What bench/cluster.ts writes to bench/results/<stamp>.json. */
export interface ClusterReport {
  readonly date: string;
  /** The commit the services ran, and whether the working tree differed from it. */
  readonly code: string;
  readonly cores: string;
  readonly node: string;
  readonly sources: number;
  readonly files: number;
  readonly treeMiB: number;
  readonly runs: readonly ClusterBenchResult[];
}

/** The report as the Markdown tables docs/performance.md copies. */
export function clusterReportMarkdown(report: ClusterReport): string {
  const f1 = (n: number) => n.toFixed(1);
  const s = (ms: number) => (ms / 1000).toFixed(2);
  const services = [...new Set(report.runs.flatMap((r) => r.services.map((x) => x.service)))].sort();
  const lines = [
    `### ${report.runs[0]!.jobs} backups, ${report.runs[0]!.concurrency} in flight, ${report.sources} sources × ${report.files} files (${f1(report.treeMiB)} MiB each) — ${report.date}, code ${report.code}`,
    '',
    '| engines | jobs/min | p50 s | p95 s | p99 s | max s | queued p50 s | failures | jobs per engine | wall s | status polls | load 1m start→end |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---|',
    ...report.runs.map(
      (r) =>
        `| ${r.engines} | ${f1(r.jobsPerMinute)} | ${s(r.latencyMs.p50)} | ${s(r.latencyMs.p95)} | ${s(r.latencyMs.p99)} | ${s(r.latencyMs.max)} | ${r.queuedMsP50 === null ? '–' : s(r.queuedMsP50)} | ${r.failures} | ${Object.entries(r.perWorker).map(([w, n]) => `${w} ${n}`).join(', ')} | ${f1(r.wallSeconds)} | ${r.statusPolls} | ${f1(r.load.start)}→${f1(r.load.end)} |`,
    ),
    '',
    `CPU seconds while the jobs ran / peak RSS MiB (VmHWM) per service (${report.cores} cores):`,
    '',
    `| engines | ${services.join(' | ')} |`,
    `|---:|${services.map(() => '---:').join('|')}|`,
    ...report.runs.map((r) => {
      const by = new Map(r.services.map((x) => [x.service, x]));
      return `| ${r.engines} | ${services.map((n) => (by.has(n) ? `${f1(by.get(n)!.cpuSeconds)} / ${by.get(n)!.peakRssMiB.toFixed(0)}` : '–')).join(' | ')} |`;
    }),
    '',
    `All services share the machine's ${report.cores} cores: a second backup-engine adds a worker, not a core.`,
    '',
  ];
  return lines.join('\n');
}
