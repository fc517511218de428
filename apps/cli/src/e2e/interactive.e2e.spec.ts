import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupJson, initRepo, makeKeyTree, PASSPHRASE, removeDir, snapshotTree, tempDir } from './support.js';

const BIN = resolve(fileURLToPath(import.meta.url), '../../../../../bin/tresor.mjs');
const ENTER = '\r';
const DOWN = '\x1b[B';

/**
 * Drives `tresor restore --interactive` on a real pseudo-terminal (util-linux `script`), answering
 * each prompt once it has appeared on the screen.
 */
class Terminal {
  private screen = '';
  private readonly child;
  readonly exited: Promise<number>;

  constructor(args: string[]) {
    const command = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    this.child = spawn('script', ['-qfec', command, '/dev/null'], {
      env: { ...process.env, TRESOR_PASSPHRASE: PASSPHRASE, TERM: 'xterm', COLUMNS: '200' },
    });
    this.child.stdout.on('data', (chunk: Buffer) => (this.screen += chunk.toString('utf8')));
    this.exited = new Promise((done) => this.child.on('exit', (code) => done(code ?? -1)));
  }

  /** Waits until `text` has been printed since the last answer, then types `keys`. */
  async answer(text: string | RegExp, keys: string): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (!(typeof text === 'string' ? this.screen.includes(text) : text.test(this.screen))) {
      if (Date.now() > deadline) throw new Error(`prompt ${String(text)} never appeared; screen:\n${this.screen}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    this.screen = '';
    await new Promise((r) => setTimeout(r, 100));
    this.child.stdin.write(keys);
  }

  get output(): string {
    return this.screen;
  }
}

describe('interactive restore', () => {
  let dir: string;
  let repo: string;
  let source: string;

  beforeAll(async () => {
    dir = await tempDir();
    source = join(dir, 'keys');
    await makeKeyTree(source);
    repo = await initRepo(dir);
    await backupJson(repo, source);
  });
  afterAll(() => removeDir(dir));

  it('picks the newest backup and a glob on a terminal, previews, confirms and restores', async () => {
    const target = join(dir, 'picked');
    const term = new Terminal(['--repo', repo, 'restore', '--interactive', '--target', target]);
    await term.answer('Restore from', DOWN + ENTER);
    await term.answer('Entries of', DOWN + ENTER);
    await term.answer('Glob pattern', `*.key${ENTER}`);
    await term.answer('Replace files that already exist', ENTER);
    await term.answer('Restore now?', `y${ENTER}`);
    expect(await term.exited).toBe(0);

    const restored = [...(await snapshotTree(target)).entries()].filter(([, e]) => e.type === 'file').map(([p]) => p);
    expect(restored).toHaveLength(5);
    expect(restored.every((p) => p.endsWith('.key'))).toBe(true);
    const original = await snapshotTree(source);
    for (const path of restored) expect((await snapshotTree(target)).get(path)).toEqual(original.get(path));
  });

  it('restores nothing when the confirmation is declined', async () => {
    const target = join(dir, 'declined');
    const term = new Terminal(['--repo', repo, 'restore', '--interactive', '--target', target]);
    await term.answer('Restore from', DOWN + ENTER);
    await term.answer('Entries of', ENTER);
    await term.answer('Replace files that already exist', ENTER);
    await term.answer('Restore now?', `n${ENTER}`);
    expect(await term.exited).toBe(0);
    await expect(snapshotTree(target)).rejects.toThrow(/ENOENT/);
  });
});
