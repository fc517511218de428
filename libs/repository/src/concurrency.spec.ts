import { describe, expect, it } from 'vitest';
import { forEachConcurrent, WeightBudget } from './concurrency.js';

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

  it('pulls an async source only as fast as the tasks finish', async () => {
    let pulled = 0;
    let maxAhead = 0;
    let done = 0;
    async function* source() {
      for (let n = 0; n < 50; n++) {
        pulled++;
        maxAhead = Math.max(maxAhead, pulled - done);
        yield n;
      }
    }
    const seen: number[] = [];
    await forEachConcurrent(source(), 4, async (n) => {
      await new Promise((r) => setTimeout(r, 1));
      seen.push(n);
      done++;
    });
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(maxAhead).toBeLessThanOrEqual(4);
  });

  it('rethrows a failure of the async source after the tasks in flight have settled', async () => {
    let settled = 0;
    async function* source() {
      yield 1;
      yield 2;
      throw new Error('bad table');
    }
    await expect(
      forEachConcurrent(source(), 2, async () => {
        await new Promise((r) => setTimeout(r, 5));
        settled++;
      }),
    ).rejects.toThrow('bad table');
    expect(settled).toBe(2);
  });
});

describe('WeightBudget', () => {
  it('lets takers through in order while they fit, one alone however heavy, and the next as weight comes back', async () => {
    const budget = new WeightBudget(10);
    const through: string[] = [];
    const take = (name: string, weight: number) => budget.take(weight).then(() => void through.push(name));
    const a = take('a', 6);
    const b = take('b', 4);
    const c = take('c', 1);
    const d = take('d', 30);
    await Promise.all([a, b]);
    await Promise.resolve();
    // a and b fill the budget exactly: c waits.
    expect(through).toEqual(['a', 'b']);
    budget.give(6);
    await c;
    expect(through).toEqual(['a', 'b', 'c']);
    // 5 held: f would fit, but d asked first and does not, so f waits behind it.
    const f = take('f', 1);
    await Promise.resolve();
    expect(through).toEqual(['a', 'b', 'c']);
    budget.give(4);
    budget.give(1);
    await d;
    expect(through).toEqual(['a', 'b', 'c', 'd']);
    // d alone holds more than the budget; nothing else gets in until it is given back.
    const e = take('e', 1);
    await Promise.resolve();
    expect(through).toHaveLength(4);
    budget.give(30);
    await Promise.all([e, f]);
    expect(through).toEqual(['a', 'b', 'c', 'd', 'f', 'e']);
  });
});
