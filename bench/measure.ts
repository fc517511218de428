import { spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';

/** What /usr/bin/time reports for one command. */
export interface Measurement {
  readonly wallSeconds: number;
  /** User + system CPU. */
  readonly cpuSeconds: number;
  /** System CPU alone: the kernel's part (file creation, reads, writes). */
  readonly systemSeconds: number;
  readonly maxRssMiB: number;
}

/** Runs a command under /usr/bin/time; fails with its stderr when it exits non-zero. */
export async function measure(argv: string[], env: Record<string, string>, cwd?: string): Promise<Measurement> {
  const report = join(tmpdir(), `tresor-bench-time-${randomBytes(4).toString('hex')}`);
  const child = spawn('/usr/bin/time', ['-f', '%e %U %S %M', '-o', report, ...argv], {
    env: { ...process.env, ...env },
    cwd,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
  const text = await readFile(report, 'utf8').catch(() => '');
  await rm(report, { force: true });
  if (code !== 0) throw new Error(`${argv.join(' ')} exited ${code}: ${stderr.trim()}`);
  const [wall, user, sys, rssKiB] = text.trim().split(/\s+/).slice(-4).map(Number);
  return { wallSeconds: wall!, cpuSeconds: user! + sys!, systemSeconds: sys!, maxRssMiB: rssKiB! / 1024 };
}

/** The median of some numbers. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
