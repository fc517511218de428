import { describe, expect, it } from 'vitest';
import { forEachConcurrent } from './concurrency.js';

describe('forEachConcurrent', () => {
  it('runs every item with at most `limit` in flight', async () => {
    let inFlight = 0;
    let peak = 0;
    const seen: number[] = [];
    await forEachConcurrent([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      seen.push(n);
      inFlight--;
    });
    expect(seen.sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(peak).toBe(3);
  });

  it('stops taking new items after a failure and rethrows it', async () => {
    const started: number[] = [];
    await expect(
      forEachConcurrent([1, 2, 3, 4, 5, 6], 2, async (n) => {
        started.push(n);
        if (n === 2) throw new Error('boom 2');
        await new Promise((r) => setTimeout(r, 5));
      }),
    ).rejects.toThrow('boom 2');
    expect(started.length).toBeLessThan(6);
  });
});
