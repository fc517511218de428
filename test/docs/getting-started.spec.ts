// docs/getting-started.md is executed: its fenced `sh` blocks run in order, as one bash script
// with `set -euo pipefail`, in an empty directory, with `tresor` being the real bin/tresor.mjs.
// A command that fails fails the test.
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { read, ROOT } from '../deploy/support.js';

/** The fenced code blocks of a Markdown page, with their info string. */
export function fencedBlocks(markdown: string): Array<{ lang: string; code: string }> {
  return [...markdown.matchAll(/^```([^\n`]*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1]!.trim(), code: m[2]! }));
}

let dir: string;
let bin: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tresor-getting-started-'));
  bin = join(dir, 'bin');
  mkdirSync(bin);
  // What `npm link` puts on the PATH: the package's bin, bin/tresor.mjs.
  writeFileSync(join(bin, 'tresor'), `#!/bin/sh\nexec "${process.execPath}" "${join(ROOT, 'bin/tresor.mjs')}" "$@"\n`);
  chmodSync(join(bin, 'tresor'), 0o755);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runScript(script: string, cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  mkdirSync(cwd, { recursive: true });
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${bin}:${process.env.PATH}`, HOME: cwd };
  for (const k of Object.keys(env)) if (k.startsWith('TRESOR_') && !k.startsWith('TRESOR_TEST_')) delete env[k];
  delete env.BASH_ENV;
  delete env.ENV;
  return new Promise((resolve) => {
    // --norc/--noprofile and no BASH_ENV: the host's startup files (some break under `set -u`) are not the page's.
    execFile('bash', ['--norc', '--noprofile', '-euo', 'pipefail', '-c', script], { cwd, env, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

describe('docs/getting-started.md', () => {
  const blocks = fencedBlocks(read('docs/getting-started.md'));

  it('shows its commands only in sh blocks, so every one of them is run below', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(5);
    for (const b of blocks) expect(b.lang).toBe('sh');
  });

  it('runs from start to end in an empty directory: back up, verify, restore, rebuild the catalog', async () => {
    const r = await runScript(blocks.map((b) => b.code).join('\n'), join(dir, 'run'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('2 of 2 backups verified (deep)');
    expect(r.stdout).toMatch(/catalog rebuilt: 2 backups/);
  }, 300_000);

  it('a failing command fails the run (the harness itself is checked)', async () => {
    const r = await runScript(['tresor --version', 'tresor restore latest --target x', 'echo unreachable'].join('\n'), join(dir, 'fail'));
    expect(r.code).not.toBe(0);
    expect(r.stdout).not.toContain('unreachable');
  });
});
