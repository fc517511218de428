import { PassThrough } from 'node:stream';
import type { Readable } from 'node:stream';

/** When a branch that takes no data may be cut off so that the others go on (write policy quorum). */
export interface TeeStall {
  /** How long the source may wait for one branch while the others are ready. */
  readonly afterMs: number;
  /** Branches that must stay live; a laggard is cut off only if at least this many remain. */
  readonly minLive: number;
  /** Told which branch was cut off (its reader then sees `error`). */
  readonly onCut: (index: number, error: Error) => void;
}

/**
 * Splits one stream into `n` that each get every byte, at the pace of the slowest live reader
 * (constant memory). A branch whose reader gives up (destroys it) is dropped and the others go on;
 * an error of the source reaches every branch. With `stall`, a branch that keeps the others waiting
 * longer than `stall.afterMs` is cut off (destroyed with an error) as long as enough stay live:
 * otherwise one black-holed location would hold every other location's copy back.
 */
export function tee(source: Readable, n: number, stall?: TeeStall): PassThrough[] {
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
  // Both listeners go once either fires: a long stream waits for drain thousands of times.
  const drained = (branch: PassThrough) =>
    new Promise<void>((resolve) => {
      const done = () => {
        branch.off('drain', done);
        branch.off('close', done);
        resolve();
      };
      branch.on('drain', done);
      branch.on('close', done);
    });
  source.on('data', (chunk: Buffer) => {
    const full = [...live].filter((branch) => !branch.write(chunk));
    if (full.length === 0) return;
    source.pause();
    let timer: NodeJS.Timeout | undefined;
    if (stall) {
      const waiting = new Set(full);
      for (const branch of full) void drained(branch).then(() => waiting.delete(branch));
      timer = setTimeout(() => {
        if (live.size - waiting.size < stall.minLive) return;
        for (const branch of waiting) {
          const error = new Error(`took no data for ${Math.round(stall.afterMs / 1000)} s while the other locations had it`);
          stall.onCut(branches.indexOf(branch), error);
          branch.destroy(error);
        }
      }, stall.afterMs);
    }
    void Promise.all(full.map(drained)).then(() => {
      clearTimeout(timer);
      source.resume();
    });
  });
  source.once('end', () => live.forEach((branch) => branch.end()));
  source.once('error', (err) => live.forEach((branch) => branch.destroy(err)));
  return branches;
}
