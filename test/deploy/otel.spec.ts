// deploy/otel/collector.yaml and deploy/grafana/tresor-dashboard.json: the collector's pipelines
// reference only what it defines and scrape every service's port, and the dashboard queries only
// series docs/monitoring.md documents, so neither can drift from the code's contract.
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { read, SERVICE_PORTS } from './support.js';

interface Collector {
  receivers: Record<string, { config?: { scrape_configs?: { static_configs?: { targets: string[] }[] }[] } } | null>;
  processors: Record<string, unknown>;
  exporters: Record<string, unknown>;
  extensions?: Record<string, unknown>;
  service: { extensions?: string[]; pipelines: Record<string, { receivers: string[]; processors?: string[]; exporters: string[] }> };
}

interface Panel {
  title: string;
  type: string;
  datasource?: { uid?: string };
  targets?: { expr: string }[];
}

/** The series of the docs/monitoring.md metrics table: name (or `prefix_*`) -> type. */
function documentedSeries(): Map<string, string> {
  const rows = new Map<string, string>();
  for (const line of read('docs/monitoring.md').split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (!line.startsWith('| `tresor_') || cells.length < 4) continue;
    for (const m of cells[1]!.matchAll(/`(tresor_[a-z0-9_]*\*?)`/g)) rows.set(m[1]!, cells[2]!);
  }
  return rows;
}

/** True when `name` is a documented series, a histogram's _bucket/_sum/_count, or under a documented `prefix_*`. */
function isDocumented(name: string, docs: Map<string, string>): boolean {
  if (docs.has(name)) return true;
  const base = /^(.*)_(bucket|sum|count)$/.exec(name)?.[1];
  if (base && docs.get(base) === 'histogram') return true;
  return [...docs.keys()].some((k) => k.endsWith('*') && name.startsWith(k.slice(0, -1)));
}

describe('deploy/otel/collector.yaml', () => {
  const config = YAML.parse(read('deploy/otel/collector.yaml')) as Collector;

  it('has an OTLP receiver on HTTP and gRPC, a prometheus scrape receiver, batch and trace/metric exporters', () => {
    expect(Object.keys((config.receivers.otlp as { protocols: object }).protocols).sort()).toEqual(['grpc', 'http']);
    expect(config.receivers.prometheus).toBeTruthy();
    expect(config.processors).toHaveProperty('batch');
    expect(Object.keys(config.service.pipelines).sort()).toEqual(['metrics', 'traces']);
  });

  it('every pipeline names only defined receivers, processors and exporters, and every defined one is used', () => {
    const used = { receivers: new Set<string>(), processors: new Set<string>(), exporters: new Set<string>() };
    for (const [name, p] of Object.entries(config.service.pipelines)) {
      expect(p.receivers.length, `${name} receivers`).toBeGreaterThan(0);
      expect(p.exporters.length, `${name} exporters`).toBeGreaterThan(0);
      for (const part of ['receivers', 'processors', 'exporters'] as const) {
        for (const ref of p[part] ?? []) {
          expect(Object.keys(config[part]), `pipeline ${name} names ${part} ${ref}`).toContain(ref);
          used[part].add(ref);
        }
      }
      // The batch processor goes last, memory_limiter first (the collector's documented order).
      expect(p.processors?.at(-1)).toBe('batch');
    }
    for (const part of ['receivers', 'processors', 'exporters'] as const) expect([...used[part]].sort(), part).toEqual(Object.keys(config[part]).sort());
    for (const ext of config.service.extensions ?? []) expect(Object.keys(config.extensions ?? {})).toContain(ext);
  });

  it('scrapes /metrics of every service on its port', () => {
    const targets = config.receivers.prometheus!.config!.scrape_configs!.flatMap((s) => s.static_configs ?? []).flatMap((s) => s.targets);
    expect(targets.sort()).toEqual(Object.entries(SERVICE_PORTS).map(([s, port]) => `${s}:${port}`).sort());
  });
});

describe('deploy/grafana/tresor-dashboard.json', () => {
  const dashboard = JSON.parse(read('deploy/grafana/tresor-dashboard.json')) as { uid: string; panels: Panel[]; templating: { list: { name: string; type: string }[] } };
  const docs = documentedSeries();
  const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
  const series = new Set(exprs.flatMap((e) => [...e.matchAll(/\btresor_[a-z0-9_]+/g)].map((m) => m[0])));

  it('reads the documented table (the guard below would pass vacuously otherwise)', () => {
    expect(docs.get('tresor_job_duration_seconds')).toBe('histogram');
    expect(docs.size).toBeGreaterThan(10);
  });

  it('queries only tresor_* series that docs/monitoring.md documents', () => {
    expect(series.size).toBeGreaterThan(0);
    for (const name of series) expect(isDocumented(name, docs), `${name} is in the docs/monitoring.md table`).toBe(true);
  });

  it('has the panels issue #8 asks for, each with a query on the dashboard-wide Prometheus datasource', () => {
    for (const needed of ['tresor_sli_backup_success_ratio', 'tresor_sli_rpo_seconds', 'tresor_sli_rto_seconds', 'tresor_jobs_total', 'tresor_job_duration_seconds_bucket', 'tresor_bytes_total', 'tresor_backup_compression_ratio', 'tresor_queue_pending_messages', 'tresor_errors_total', 'tresor_check_status', 'tresor_process_resident_memory_bytes']) {
      expect([...series], needed).toContain(needed);
    }
    expect(exprs.some((e) => /histogram_quantile\(0\.95,.*tresor_job_duration_seconds_bucket/.test(e))).toBe(true);
    expect(dashboard.templating.list.find((v) => v.name === 'datasource')?.type).toBe('datasource');
    for (const p of dashboard.panels) {
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      expect(p.datasource?.uid, p.title).toBe('${datasource}');
    }
  });

  it('the guard catches a series the docs do not have', () => {
    expect(isDocumented('tresor_backups_in_flight', docs)).toBe(false);
    expect(isDocumented('tresor_jobs_total_bucket', docs)).toBe(false);
  });
});
