import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runClusterBench } from '../../bench/cluster-bench.js';
import { clusterReportMarkdown } from '../../bench/cluster-report.js';
import { generateKeyTree } from '../../bench/generate-key-tree.js';

const SERVICES = ['audit', 'backup-engine#1', 'gateway', 'monitoring', 'recovery', 'scheduler', 'storage-gateway'];

describe('cluster benchmark core loop (bench/cluster-bench.ts)', () => {
  let dir: string;
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('runs 4 backups of 2 sources through the gateway on 1 engine, every one completed, and reports every field', async () => {
    dir = await mkdtemp(join(tmpdir(), 'tresor-cluster-bench-'));
    const sources = [join(dir, 'source-1'), join(dir, 'source-2')];
    for (const [i, source] of sources.entries()) await generateKeyTree(source, 20, i + 1);

    const result = await runClusterBench({ sources, jobs: 4, concurrency: 2, engines: 1 });

    expect(result.samples.map((s) => [s.state, s.error])).toEqual(Array(4).fill(['completed', undefined]));
    expect(result).toMatchObject({ engines: 1, jobs: 4, concurrency: 2, completed: 4, failures: 0, perWorker: { 'engine-1': 4 } });
    // Each source was backed up twice and never by two jobs at once (no job waited on a source lock).
    expect(result.samples.map((s) => s.source).sort()).toEqual([sources[0], sources[0], sources[1], sources[1]]);
    expect(new Set(result.samples.map((s) => s.id)).size).toBe(4);
    for (const key of ['p50', 'p95', 'p99', 'max'] as const) expect(result.latencyMs[key]).toBeGreaterThan(0);
    expect(result.jobsPerMinute).toBeGreaterThan(0);
    expect(result.statusPolls).toBeGreaterThan(0);
    expect(result.services.map((s) => s.service)).toEqual(SERVICES);
    for (const s of result.services) {
      expect(s.peakRssMiB, s.service).toBeGreaterThan(0);
      expect(s.cpuSeconds, s.service).toBeGreaterThanOrEqual(0);
    }
    // The engine did the backups, so it used CPU while they ran.
    expect(result.services.find((s) => s.service === 'backup-engine#1')!.cpuSeconds).toBeGreaterThan(0);

    const markdown = clusterReportMarkdown({ date: 'd', code: 'abc1234', cores: '2', node: process.version, sources: 2, files: 20, treeMiB: 0.1, runs: [result] });
    expect(markdown).toContain('| engines | jobs/min | p50 s | p95 s | p99 s |');
    expect(markdown).toContain(`| ${SERVICES.join(' | ')} |`);
    expect(markdown).toMatch(/^\| 1 \| [\d.]+ \| [\d.]+ \| [\d.]+ \| [\d.]+ \| [\d.]+ \| [\d.]+ \| 0 \| engine-1 4 \|/m);
  }, 300_000);
});
