/**
 * Benchmarks Tresor against restic and borg on the same generated key tree, in one run,
 * alternating the tools, and writes Markdown and JSON to bench/results/.
 *
 *   npm run bench -- --files 10000 [--reps 3] [--tools tresor,restic,borg] [--work /tmp/tresor-bench]
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, stat, truncate, appendFile, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { restoreTimingHazard, workFilesystem } from './filesystem.js';
import type { WorkFilesystem } from './filesystem.js';
import { measureFloors } from './floors.js';
import type { Floor } from './floors.js';
import { generateKeyTree } from './generate-key-tree.js';
import { measure, median } from './measure.js';
import type { Measurement } from './measure.js';
import { LAST, TOOLS } from './tools.js';
import type { Tool } from './tools.js';

const SCENARIOS = ['first backup', 'no-change backup', 'backup after 1% changed', 'full restore', 'restore *.key', 'deep verify'] as const;
type Scenario = (typeof SCENARIOS)[number];

const { values } = parseArgs({
  options: {
    files: { type: 'string', default: '10000' },
    reps: { type: 'string', default: '1' },
    tools: { type: 'string', default: TOOLS.map((t) => t.name).join(',') },
    work: { type: 'string', default: '/tmp/tresor-bench' },
  },
});
const files = Number(values.files);
const reps = Number(values.reps);
const tools = TOOLS.filter((t) => values.tools!.split(',').includes(t.name));
const work = resolve(values.work!, String(files));
const tree = join(work, 'tree');

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(join(entry.parentPath, entry.name));
  }
  return out.sort();
}

async function du(dir: string): Promise<number> {
  return Number(execFileSync('du', ['-sb', dir], { encoding: 'utf8' }).split('\t')[0]);
}

/** One repetition of every scenario for one tool, each in fresh directories. */
async function runTool(tool: Tool, changed: string[]): Promise<{ results: Record<Scenario, Measurement>; repoBytes: number }> {
  const base = join(work, tool.name);
  await rm(base, { recursive: true, force: true });
  await mkdir(base, { recursive: true });
  const repo = join(base, 'repo');
  await measure(tool.init(repo), tool.env);
  const results = {} as Record<Scenario, Measurement>;
  // Untimed, so that every tool's first backup starts from a warm page cache: the tree's pages do
  // not stay cached between runs on this VM (the raw tar after the tools took 8.2–9.3 s, the same
  // read right after it 1.3–1.5 s), and with one repetition the first tool is always the same.
  readTree();
  results['first backup'] = await measure(tool.backup(repo, tree, 'first'), tool.env);
  results['no-change backup'] = await measure(tool.backup(repo, tree, 'nochange'), tool.env);
  const sizes = await Promise.all(changed.map(async (f) => (await stat(f)).size));
  for (const f of changed) await appendFile(f, 'changed\n');
  try {
    results['backup after 1% changed'] = await measure(tool.backup(repo, tree, LAST), tool.env);
  } finally {
    await Promise.all(changed.map((f, i) => truncate(f, sizes[i])));
  }
  for (const [scenario, command] of [
    ['full restore', tool.restore],
    ['restore *.key', tool.restoreKeys],
  ] as const) {
    const target = join(base, scenario === 'full restore' ? 'restored' : 'restored-keys');
    await mkdir(target, { recursive: true });
    results[scenario] = await measure(command(repo, target), tool.env, tool.restoreCwd?.(target));
  }
  results['deep verify'] = await measure(tool.verifyDeep(repo), tool.env);
  const repoBytes = await du(repo);
  await rm(base, { recursive: true, force: true });
  return { results, repoBytes };
}

/** Reads every byte of the tree (`tar -cf - | cat`); the seconds it took. */
function readTree(): number {
  const started = Date.now();
  execFileSync('bash', ['-c', `tar -cf - -C ${JSON.stringify(tree)} . | cat > /dev/null`]);
  return (Date.now() - started) / 1000;
}

function rawLimits(): { tarSeconds: number; aesGcmMiBs: number } {
  const tarSeconds = readTree();
  const speed = execFileSync('openssl', ['speed', '-evp', 'aes-256-gcm', '-seconds', '1', '-bytes', '65536'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const last = speed.trim().split('\n').at(-1)!.trim().split(/\s+/).at(-1)!;
  return { tarSeconds, aesGcmMiBs: Number(last.replace(/k$/, '')) * 1000 / 1024 / 1024 };
}

async function main(): Promise<void> {
  if (!existsSync(join(work, '.complete'))) {
    await rm(work, { recursive: true, force: true });
    await generateKeyTree(tree, files, 1);
    await writeFile(join(work, '.complete'), '');
  }
  const filesystem = workFilesystem(work);
  const hazard = restoreTimingHazard(filesystem);
  if (hazard) process.stderr.write(`warning: ${hazard}\n`);
  // The machine is shared: the load during the run says how far to trust the wall times.
  const loadSamples = [loadavg()[0]!];
  const sampler = setInterval(() => loadSamples.push(loadavg()[0]!), 10_000);
  const all = await listFiles(tree);
  const changed = all.filter((_, i) => i % 100 === 0);
  const samples = new Map<string, { results: Record<Scenario, Measurement>; repoBytes: number }[]>();
  for (let rep = 0; rep < reps; rep++) {
    // Alternate the order so that no tool always runs on a cold or a warm page cache.
    const order = tools.map((_, i) => tools[(i + rep) % tools.length]!);
    for (const tool of order) {
      process.stderr.write(`rep ${rep + 1}/${reps}: ${tool.name}\n`);
      const run = await runTool(tool, changed);
      samples.set(tool.name, [...(samples.get(tool.name) ?? []), run]);
    }
  }
  const limits = rawLimits();
  const floors = await measureFloors(tree, join(work, 'floors'));
  clearInterval(sampler);
  loadSamples.push(loadavg()[0]!);
  const load = { min: Math.min(...loadSamples), median: median(loadSamples), max: Math.max(...loadSamples) };
  const treeBytes = await du(tree);
  const summary = Object.fromEntries(
    tools.map((tool) => {
      const runs = samples.get(tool.name)!;
      const scenarios = Object.fromEntries(
        SCENARIOS.map((s) => [
          s,
          {
            wallSeconds: median(runs.map((r) => r.results[s].wallSeconds)),
            cpuSeconds: median(runs.map((r) => r.results[s].cpuSeconds)),
            systemSeconds: median(runs.map((r) => r.results[s].systemSeconds)),
            maxRssMiB: median(runs.map((r) => r.results[s].maxRssMiB)),
          },
        ]),
      );
      return [tool.name, { scenarios, repoBytes: median(runs.map((r) => r.repoBytes)) }];
    }),
  );
  const report = {
    date: new Date().toISOString(),
    machine: { cores: execFileSync('nproc', { encoding: 'utf8' }).trim(), node: process.version },
    // Only the tools that ran: a Tresor-only run needs neither restic nor borg installed.
    versions: Object.fromEntries(
      tools
        .filter((t) => t.name !== 'tresor')
        .map((t) => [t.name, execFileSync(t.name, [t.name === 'restic' ? 'version' : '--version'], { encoding: 'utf8' }).trim()]),
    ),
    tree: { files: all.length, bytes: treeBytes },
    filesystem,
    reps,
    limits,
    floors,
    load,
    results: summary,
  };
  const outDir = resolve(fileURLToPath(import.meta.url), '../results');
  await mkdir(outDir, { recursive: true });
  const stamp = report.date.replace(/[:.]/g, '-');
  await writeFile(join(outDir, `${stamp}-${files}.json`), JSON.stringify(report, null, 2) + '\n');
  const markdown = toMarkdown(report);
  await writeFile(join(outDir, `${stamp}-${files}.md`), markdown);
  process.stdout.write(markdown);
}

function toMarkdown(report: {
  date: string;
  tree: { files: number; bytes: number };
  filesystem: WorkFilesystem;
  reps: number;
  limits: { tarSeconds: number; aesGcmMiBs: number };
  floors: Floor[];
  load: { min: number; median: number; max: number };
  results: Record<string, { scenarios: Record<string, Measurement>; repoBytes: number }>;
}): string {
  const names = Object.keys(report.results);
  const fmt = (n: number) => n.toFixed(2);
  const lines = [
    `### ${report.tree.files} files, ${(report.tree.bytes / 2 ** 20).toFixed(0)} MiB — ${report.date} (medians of ${report.reps})`,
    '',
    `| scenario | ${names.map((n) => `${n} wall s`).join(' | ')} | ${names.map((n) => `${n} CPU s`).join(' | ')} | ${names.map((n) => `${n} RSS MiB`).join(' | ')} | ${names.filter((n) => n !== 'tresor').map((n) => `tresor/${n} wall`).join(' | ')} |`,
    `|---|${names.map(() => '---:').join('|')}|${names.map(() => '---:').join('|')}|${names.map(() => '---:').join('|')}|${names.filter((n) => n !== 'tresor').map(() => '---:').join('|')}|`,
  ];
  for (const scenario of SCENARIOS) {
    const cell = (n: string, key: keyof Measurement) => fmt(report.results[n]!.scenarios[scenario]![key]);
    const ratios = names
      .filter((n) => n !== 'tresor' && report.results.tresor)
      .map((n) => fmt(report.results.tresor!.scenarios[scenario]!.wallSeconds / report.results[n]!.scenarios[scenario]!.wallSeconds));
    lines.push(
      `| ${scenario} | ${names.map((n) => cell(n, 'wallSeconds')).join(' | ')} | ${names.map((n) => cell(n, 'cpuSeconds')).join(' | ')} | ${names.map((n) => cell(n, 'maxRssMiB')).join(' | ')} | ${ratios.join(' | ')} |`,
    );
  }
  lines.push(
    `| repository size MiB | ${names.map((n) => (report.results[n]!.repoBytes / 2 ** 20).toFixed(1)).join(' | ')} | | | | | | | |`,
    '',
    `Raw limits on the same tree: \`tar -cf - | cat > /dev/null\` ${fmt(report.limits.tarSeconds)} s; \`openssl speed -evp aes-256-gcm\` (64 KiB blocks) ${report.limits.aesGcmMiBs.toFixed(0)} MiB/s.`,
    `Load average (1 min, sampled every 10 s during the run): median ${report.load.median.toFixed(1)}, min ${report.load.min.toFixed(1)}, max ${report.load.max.toFixed(1)}.`,
    `Repositories and restores on ${report.filesystem.source} (${report.filesystem.type}${report.filesystem.journal === null ? '' : report.filesystem.journal ? ', journal' : ', no journal'}; ${report.filesystem.options}).${restoreTimingHazard(report.filesystem) ? ' Restore times here depend on what was deleted before them (see Method).' : ''}`,
    '',
    ...floorsTable(report),
  );
  return lines.join('\n');
}

/** The machine's floors beside each goal (0.5x restic's wall time) and what Tresor took. */
function floorsTable(report: { floors: Floor[]; results: Record<string, { scenarios: Record<string, Measurement> }> }): string[] {
  const restic = report.results.restic?.scenarios;
  const tresor = report.results.tresor?.scenarios;
  const cell = (m: Measurement | undefined, scale = 1) => (m ? (m.wallSeconds * scale).toFixed(2) : '');
  return [
    '| floor on the same tree | wall s | CPU s | of which system s | RSS MiB | bounds | goal: 0.5× restic wall s | tresor wall s |',
    '|---|---:|---:|---:|---:|---|---:|---:|',
    ...report.floors.map(
      (f) =>
        `| ${f.name.replaceAll('|', '\\|')} | ${f.measurement.wallSeconds.toFixed(2)} | ${f.measurement.cpuSeconds.toFixed(2)} | ${f.measurement.systemSeconds.toFixed(2)} | ${f.measurement.maxRssMiB.toFixed(0)} | ${f.scenario} | ${cell(restic?.[f.scenario], 0.5)} | ${cell(tresor?.[f.scenario])} |`,
    ),
    '',
  ];
}

await main();
