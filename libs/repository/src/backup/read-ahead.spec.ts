import { describe, expect, it } from 'vitest';
import { readAhead } from './read-ahead.js';

/** 0..n-1 in batches of `size`. */
async function* numbers(n: number, size = 3): AsyncGenerator<number[]> {
  for (let i = 0; i < n; i += size) yield Array.from({ length: Math.min(size, n - i) }, (_, k) => i + k);
}

async function collect<R>(runs: AsyncIterable<R[]>): Promise<{ values: R[]; runs: number }> {
  const values: R[] = [];
  let count = 0;
  for await (const run of runs) {
    expect(run.length).toBeGreaterThan(0);
    values.push(...run);
    count++;
  }
  return { values, runs: count };
}

describe('readAhead', () => {
  it('yields in order, prepares one at a time and starts up to depth ahead', async () => {
    let preparing = 0;
    let inFlight = 0;
    let peak = 0;
    const gen = readAhead(
      numbers(20),
      { depth: 4, maxWeight: Infinity, weigh: () => 0 },
      async (n: number) => {
        expect(preparing).toBe(0);
        preparing++;
        await new Promise((r) => setTimeout(r, 1));
        preparing--;
        return n;
      },
      async (n: number) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((r) => setTimeout(r, (20 - n) % 5));
        inFlight--;
        return n * 10;
      },
    );
    const { values } = await collect(gen);
    expect(values).toEqual(Array.from({ length: 20 }, (_, i) => i * 10));
    expect(peak).toBeGreaterThan(1);
    expect(peak).toBeLessThanOrEqual(4);
  });

  it('takes answers given at once, in runs, mixed with ones that take a promise', async () => {
    const gen = readAhead(
      numbers(50, 7),
      { depth: 8, maxWeight: Infinity, weigh: () => 0 },
      (n: number) => (n % 3 === 0 ? Promise.resolve(n) : n),
      (n: number) => (n % 5 === 0 ? new Promise<number>((r) => setTimeout(() => r(-n), 2)) : -n),
    );
    const { values, runs } = await collect(gen);
    expect(values).toEqual(Array.from({ length: 50 }, (_, i) => -i));
    // Results that were ready together came together.
    expect(runs).toBeLessThan(50);
  });

  it('delivers a failure when its item is reached, without an unhandled rejection', async () => {
    for (const failing of [
      async (n: number) => {
        if (n === 2) throw new Error('cannot read 2');
        return n;
      },
      (n: number) => {
        if (n === 2) throw new Error('cannot read 2');
        return n;
      },
    ]) {
      const gen = readAhead(numbers(5), { depth: 3, maxWeight: Infinity, weigh: () => 0 }, (n: number) => n, failing);
      const seen: number[] = [];
      await expect(
        (async () => {
          for await (const run of gen) seen.push(...run);
        })(),
      ).rejects.toThrow('cannot read 2');
      expect(seen).toEqual([0, 1]);
    }
  });

  it('keeps the weight of the items started ahead under maxWeight', async () => {
    let held = 0;
    let peak = 0;
    const weights = [5, 1, 1, 8, 1, 1, 1, 9, 2, 2, 2, 2];
    const gen = readAhead(
      // One batch: the limits hold within a batch, not only between batches.
      numbers(weights.length, weights.length),
      { depth: 100, maxWeight: 10, weigh: (n: number) => weights[n]! },
      (n: number) => n,
      async (n: number) => {
        held += weights[n]!;
        peak = Math.max(peak, held);
        await new Promise((r) => setTimeout(r, 1));
        return n;
      },
    );
    const out: number[] = [];
    for await (const run of gen) {
      for (const n of run) {
        out.push(n);
        held -= weights[n]!;
      }
    }
    expect(out).toEqual(weights.map((_, i) => i));
    // One item may tip the total over the limit (it is only known once prepared), never two.
    expect(peak).toBeLessThan(10 + 9);
    expect(peak).toBeGreaterThan(5);
  });
});
