/**
 * Cluster benchmark (issue #9): N concurrent backups through the gateway with 1 and 2 backup-engine
 * replicas, each engine count on a fresh cluster on the test servers (test/infra/up); Markdown and
 * JSON to bench/results/.
 *
 *   npm run bench:cluster -- --sources 8 --jobs 40 --concurrency 4 --engines 1,2 [--files 1000] [--work /tmp/tresor-bench-cluster]
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runClusterBench } from './cluster-bench.js';
import type { ClusterBenchResult } from './cluster-bench.js';
import { clusterReportMarkdown } from './cluster-report.js';
import type { ClusterReport } from './cluster-report.js';
import { generateKeyTree } from './generate-key-tree.js';

const { values } = parseArgs({
  options: {
    sources: { type: 'string', default: '8' },
    jobs: { type: 'string', default: '40' },
    concurrency: { type: 'string', default: '4' },
    engines: { type: 'string', default: '1,2' },
    files: { type: 'string', default: '1000' },
    work: { type: 'string', default: '/tmp/tresor-bench-cluster' },
  },
});

function positive(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write(`tresor bench:cluster: --${name} must be a positive integer, not ${JSON.stringify(text)}\n`);
    process.exit(2);
  }
  return n;
}

const sources = positive('sources', values.sources!);
const jobs = positive('jobs', values.jobs!);
const concurrency = positive('concurrency', values.concurrency!);
const files = positive('files', values.files!);
const engineCounts = values.engines!.split(',').map((e) => positive('engines', e));
const work = resolve(values.work!, `${sources}x${files}`);

/** S key trees of F files, seeds 1..S so that sources do not deduplicate against each other; reused between runs. */
async function keyTrees(): Promise<string[]> {
  const dirs = Array.from({ length: sources }, (_, i) => join(work, `source-${i + 1}`));
  if (!existsSync(join(work, '.complete'))) {
    await rm(work, { recursive: true, force: true });
    for (const [i, dir] of dirs.entries()) await generateKeyTree(dir, files, i + 1);
    await writeFile(join(work, '.complete'), '');
  }
  return dirs;
}

const git = (...args: string[]): string => execFileSync('git', args, { encoding: 'utf8', cwd: resolve(fileURLToPath(import.meta.url), '../..') }).trim();

async function main(): Promise<void> {
  const dirs = await keyTrees();
  const runs: ClusterBenchResult[] = [];
  for (const engines of engineCounts) {
    process.stderr.write(`bench:cluster: ${engines} engine(s), ${jobs} jobs, ${concurrency} in flight\n`);
    runs.push(await runClusterBench({ sources: dirs, jobs, concurrency, engines }));
  }
  const report: ClusterReport = {
    date: new Date().toISOString(),
    code: `${git('rev-parse', '--short', 'HEAD')}${git('status', '--porcelain', '--untracked-files=no') ? ' + uncommitted changes' : ''}`,
    cores: execFileSync('nproc', { encoding: 'utf8' }).trim(),
    node: process.version,
    sources,
    files,
    treeMiB: Number(execFileSync('du', ['-sb', dirs[0]!], { encoding: 'utf8' }).split('\t')[0]) / 2 ** 20,
    runs,
  };
  const outDir = resolve(fileURLToPath(import.meta.url), '../results');
  await mkdir(outDir, { recursive: true });
  const stamp = `${report.date.replace(/[:.]/g, '-')}-cluster-${sources}x${files}-${jobs}`;
  await writeFile(join(outDir, `${stamp}.json`), JSON.stringify(report, null, 2) + '\n');
  const markdown = clusterReportMarkdown(report);
  await writeFile(join(outDir, `${stamp}.md`), markdown);
  process.stdout.write(markdown);
  const failed = runs.reduce((n, r) => n + r.failures, 0);
  if (failed) {
    process.stderr.write(`bench:cluster: ${failed} job(s) failed; see ${join(outDir, `${stamp}.json`)}\n`);
    process.exitCode = 1;
  }
}

await main();
