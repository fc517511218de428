import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSPHRASE, makeKeyTree, removeDir, tempDir, tresor } from './support.js';

const BIN = resolve(fileURLToPath(import.meta.url), '../../../../../bin/tresor.mjs');

interface Event {
  event: string;
  schedule?: string;
  due?: string;
  level?: string;
  backupId?: string;
}

/** Starts `tresor schedule run` and collects its JSON lines; resolves on exit. */
function daemon(args: string[]): { events: Event[]; stop: () => void; exited: Promise<number | null>; stderr: string[] } {
  const child = spawn(process.execPath, [BIN, '--json', ...args], { env: { ...process.env, TRESOR_PASSPHRASE: PASSPHRASE, TRESOR_REPO: undefined }, stdio: ['ignore', 'pipe', 'pipe'] });
  const events: Event[] = [];
  const stderr: string[] = [];
  createInterface({ input: child.stdout }).on('line', (l) => events.push(JSON.parse(l) as Event));
  createInterface({ input: child.stderr }).on('line', (l) => stderr.push(l));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { events, stderr, stop: () => child.kill('SIGTERM'), exited };
}

async function until(what: string, ms: number, probe: () => boolean): Promise<void> {
  const deadline = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('tresor schedule run (standalone daemon)', () => {
  let dir: string;
  let repo: string;
  let src: string;
  let file: string;
  beforeAll(async () => {
    dir = await tempDir();
    repo = join(dir, 'repo');
    src = join(dir, 'keys');
    await mkdir(src);
    await makeKeyTree(src);
    const init = await tresor(['--repo', repo, 'init']);
    expect(init.code, init.stderr).toBe(0);
    file = join(dir, 'schedules.json');
    // Every 2 s; runs due on a second divisible by 4 are full, the others incremental.
    await writeFile(file, JSON.stringify({ schedules: [{ id: 'keys', source: src, cron: '*/2 * * * * *', plan: [{ cron: '*/4 * * * * *', level: 'full' }], tags: ['scheduled'], catchUp: 'run-once' }] }));
  }, 60_000);
  afterAll(async () => {
    await removeDir(dir);
  });

  it('fires each due run once, at its planned level, and stops on SIGTERM', async () => {
    const d = daemon(['--repo', repo, 'schedule', 'run', '--file', file, '--tick', '200ms']);
    await until('four backups', 90_000, () => d.events.filter((e) => e.event === 'backup').length >= 4);
    d.stop();
    expect(await d.exited).toBe(0);
    expect(d.events.at(-1)?.event).toBe('stopped');
    const backups = d.events.filter((e) => e.event === 'backup');
    const dues = backups.map((e) => Date.parse(e.due!));
    // Consecutive due times two seconds apart: none twice, none skipped.
    for (let i = 1; i < dues.length; i++) expect(dues[i]! - dues[i - 1]!).toBe(2000);
    for (const b of backups) {
      const second = new Date(b.due!).getUTCSeconds();
      // The first backup of a source is full whatever was asked.
      if (b !== backups[0]) expect(b.level).toBe(second % 4 === 0 ? 'full' : 'incremental');
    }
    const listed = JSON.parse((await tresor(['--repo', repo, '--json', 'list'])).stdout) as { id: string; tags: string[] }[];
    expect(listed.filter((b) => b.tags.includes('scheduled')).map((b) => b.id).sort()).toEqual(backups.map((b) => b.backupId).sort());
  }, 180_000);

  it('collapses runs missed while it was down into one run (run-once)', async () => {
    await new Promise((r) => setTimeout(r, 5000));
    const d = daemon(['--repo', repo, 'schedule', 'run', '--file', file, '--once', '--grace', '1s']);
    expect(await d.exited).toBe(0);
    expect(d.events.some((e) => e.event === 'missed')).toBe(true);
    expect(d.events.filter((e) => e.event === 'backup')).toHaveLength(1);
  }, 120_000);

  it('refuses a bad schedule file naming the file and the field', async () => {
    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ schedules: [{ id: 'x', source: src, cron: '* * *' }] }));
    const r = await tresor(['--repo', repo, 'schedule', 'run', '--file', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`schedule file ${bad}: schedules.0 (x): cron expression '* * *' has 3 fields`);
    await writeFile(bad, JSON.stringify({ schedules: [{ id: 'x', source: src, cron: '* * * * *', everyMs: 5000 }] }));
    expect((await tresor(['--repo', repo, 'schedule', 'run', '--file', bad])).stderr).toMatch(/schedules\.0.*exactly one of cron or everyMs/);
  });
});
