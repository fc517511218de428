import { randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import autocannon from 'autocannon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TresorClient } from '@tresor/client';
import type { JobRecord } from '@tresor/contracts';
import { TestCluster } from '../cluster/cluster.js';
import { hashTree } from '../support/tree.js';
import { finished, randomTree } from './cluster-faults.js';

/** Where the figures go (test/reports is not committed; docs/reliability.md records a run's). */
export const REPORTS = resolve(import.meta.dirname, '../reports');

export interface LoadOptions {
  /** How long the API clients run, in seconds. */
  readonly durationS: number;
  /** Concurrent HTTP connections per API route (autocannon). */
  readonly connections: number;
  /** Concurrent clients each running backup -> restore -> compare until the time is up. */
  readonly jobClients: number;
}

interface Latency {
  readonly requests: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly non2xx: Record<string, number>;
  readonly errors: number;
}

export interface LoadReport {
  readonly at: string;
  readonly options: LoadOptions;
  readonly api: Record<string, Latency>;
  readonly jobs: { backups: number; restores: number; failed: number; mismatched: number; backupMs: Omit<Latency, 'non2xx' | 'errors' | 'perSecond'>; restoreMs: Omit<Latency, 'non2xx' | 'errors' | 'perSecond'> };
  /** Resident memory of each service process in MiB: after warm-up, and after the load once idle. */
  readonly rssMiB: Record<string, { before: number; after: number; peak: number }>;
}

function percentile(sorted: readonly number[], p: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function summarise(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  const r = (n: number) => Math.round(n * 10) / 10;
  return { requests: s.length, p50Ms: r(percentile(s, 50)), p95Ms: r(percentile(s, 95)), p99Ms: r(percentile(s, 99)), maxMs: r(s[s.length - 1] ?? 0) };
}

/** Resident set size of a process in MiB (Linux /proc). */
export async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

/** One API route hammered by autocannon: every response time kept, so p95 is exact. */
async function hammer(url: string, path: string, token: string, options: LoadOptions): Promise<Latency> {
  const samples: number[] = [];
  const codes: Record<string, number> = {};
  const run = autocannon({ url: `${url}${path}`, connections: options.connections, duration: options.durationS, headers: { authorization: `Bearer ${token}` } });
  run.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    samples.push(ms);
    if (status < 200 || status > 299) codes[status] = (codes[status] ?? 0) + 1;
  });
  const result = await run;
  return { ...summarise(samples), perSecond: Math.round(result.requests.average), non2xx: codes, errors: result.errors + result.timeouts };
}

/**
 * K API clients (list backups, one job's status, health) through the gateway for `durationS`,
 * and `jobClients` clients running whole backups and restores at the same time. Returns the
 * figures and writes them to test/reports/<name>.json.
 */
export async function runLoad(cluster: TestCluster, client: TresorClient, gateway: string, source: string, options: LoadOptions, name: string): Promise<LoadReport> {
  const token = cluster.token!;
  // Warm-up: one whole job, so every service has loaded what it needs before the first RSS figure.
  const first = await finished(client, (await client.backups.create({ source: { kind: 'filesystem', location: source } })).id);
  if (first.state !== 'completed') throw new Error(`warm-up backup ${first.state}: ${JSON.stringify(first.error)}`);
  const backupId = (first.result as { backupId: string }).backupId;
  const rss = async () => Object.fromEntries(await Promise.all(cluster.services.map(async (s) => [s.name, await rssMiB(s.child.pid!)] as const)));
  const before = await rss();
  const peak = { ...before };
  const sampler = setInterval(() => {
    void rss().then((now) => {
      for (const [k, v] of Object.entries(now)) peak[k] = Math.max(peak[k] ?? 0, v);
    }).catch(() => undefined);
  }, 1000);

  const expected = await hashTree(source);
  const deadline = Date.now() + options.durationS * 1000;
  const jobs = { backups: 0, restores: 0, failed: 0, mismatched: 0, backupMs: [] as number[], restoreMs: [] as number[] };
  const timed = async (start: () => Promise<JobRecord>, into: number[]) => {
    const t0 = performance.now();
    const done = await finished(client, (await start()).id);
    into.push(performance.now() - t0);
    if (done.state !== 'completed') jobs.failed++;
    return done;
  };
  const jobClient = async () => {
    while (Date.now() < deadline) {
      const b = await timed(() => client.backups.create({ source: { kind: 'filesystem', location: source } }, { idempotencyKey: randomUUID() }), jobs.backupMs);
      jobs.backups++;
      if (b.state !== 'completed') continue;
      const target = join(cluster.dir, `load-${randomUUID()}`);
      const r = await timed(() => client.backups.restore({ backup: (b.result as { backupId: string }).backupId, target, include: [], exclude: [], dryRun: false, overwrite: false }), jobs.restoreMs);
      jobs.restores++;
      if (r.state === 'completed' && JSON.stringify(await hashTree(target)) !== JSON.stringify(expected)) jobs.mismatched++;
    }
  };
  const routes = { 'GET /v1/backups': '/v1/backups', 'GET /v1/jobs/{id}': `/v1/jobs/${first.id}`, 'GET /v1/health': '/v1/health', [`GET /v1/backups/{id}`]: `/v1/backups/${backupId}` };
  const [api] = await Promise.all([
    Promise.all(Object.entries(routes).map(async ([k, path]) => [k, await hammer(gateway, path, token, options)] as const)).then(Object.fromEntries),
    Promise.all(Array.from({ length: options.jobClients }, jobClient)),
  ]);
  clearInterval(sampler);
  // Idle for a moment so what the load allocated can be collected before the "after" figure.
  await new Promise((r) => setTimeout(r, 5000));
  const after = await rss();
  const report: LoadReport = {
    at: new Date().toISOString(),
    options,
    api: api as Record<string, Latency>,
    jobs: { backups: jobs.backups, restores: jobs.restores, failed: jobs.failed, mismatched: jobs.mismatched, backupMs: summarise(jobs.backupMs), restoreMs: summarise(jobs.restoreMs) },
    rssMiB: Object.fromEntries(Object.keys(before).map((k) => [k, { before: before[k]!, after: after[k]!, peak: Math.max(peak[k]!, after[k]!) }])),
  };
  const file = join(REPORTS, `${name}.json`);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`${name} (${file}):\n${JSON.stringify(report, null, 2)}`);
  return report;
}

/** Resident memory a service may gain over a load run (documented in docs/reliability.md). */
export const RSS_GROWTH_BOUND_MIB = 150;

/** What a load run must show on any machine: no error, no failed or wrong job, bounded memory. */
export function expectHealthyLoad(report: LoadReport): void {
  for (const [route, r] of Object.entries(report.api)) {
    expect(r.non2xx, `${route}: answers other than 2xx`).toEqual({});
    expect(r.errors, `${route}: connection errors and timeouts`).toBe(0);
    expect(r.requests, `${route}: requests answered`).toBeGreaterThan(0);
  }
  expect(report.jobs.backups).toBeGreaterThan(0);
  expect(report.jobs.restores).toBeGreaterThan(0);
  expect(report.jobs.failed, 'failed jobs').toBe(0);
  expect(report.jobs.mismatched, 'restores that differ from the source').toBe(0);
  for (const [service, m] of Object.entries(report.rssMiB)) expect(m.after - m.before, `${service}: RSS growth in MiB`).toBeLessThanOrEqual(RSS_GROWTH_BOUND_MIB);
}

/**
 * Declares a load test on a whole cluster: `options` for the run, figures written to
 * test/reports/<name>.json. Used by load.e2e.spec.ts (short) and long/load.long.ts.
 */
export function describeLoad(name: string, options: LoadOptions): void {
  describe(`load (${name}): concurrent API clients and jobs through the gateway`, () => {
    let cluster: TestCluster;
    let client: TresorClient;
    let gateway: string;
    let source: string;
    beforeAll(async () => {
      cluster = await TestCluster.create();
      gateway = (await cluster.startAll()).http;
      client = new TresorClient({ url: gateway });
      source = await randomTree(join(cluster.dir, 'keys'), 32, 32 * 1024);
    }, 300_000);
    afterAll(async () => {
      await cluster?.stop();
    });

    it('answers every request and completes every job, with bounded memory', { timeout: options.durationS * 1000 + 600_000 }, async () => {
      expectHealthyLoad(await runLoad(cluster, client, gateway, source, options, name));
    });
  });
}
