import { PassThrough } from 'node:stream';
import type { Readable } from 'node:stream';

/**
 * Splits one stream into `n` that each get every byte, at the pace of the slowest live reader
 * (constant memory). A branch whose reader gives up (destroys it) is dropped and the others go on;
 * an error of the source reaches every branch.
 */
export function tee(source: Readable, n: number): PassThrough[] {
  const branches = Array.from({ length: n }, () => new PassThrough());
  const live = new Set(branches);
  for (const branch of branches) {
    // A store that already gave up on its branch no longer listens: the source's error, passed on
    // below, must not become an uncaught exception there (the stores still listening get it).
    branch.on('error', () => undefined);
    branch.once('close', () => {
      live.delete(branch);
      if (live.size === 0) source.destroy();
    });
  }
  source.on('data', (chunk: Buffer) => {
    const full = [...live].filter((branch) => !branch.write(chunk));
    if (full.length === 0) return;
    source.pause();
    void Promise.all(
      full.map(
        (branch) => new Promise((resolve) => (branch.once('drain', resolve), branch.once('close', resolve))),
      ),
    ).then(() => source.resume());
  });
  source.once('end', () => live.forEach((branch) => branch.end()));
  source.once('error', (err) => live.forEach((branch) => branch.destroy(err)));
  return branches;
}
