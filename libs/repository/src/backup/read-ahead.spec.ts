import { describe, expect, it } from 'vitest';
import { readAhead } from './read-ahead.js';

async function* numbers(n: number): AsyncGenerator<number> {
  for (let i = 0; i < n; i++) yield i;
}

describe('readAhead', () => {
  it('yields in order, prepares one at a time and starts up to depth ahead', async () => {
    let preparing = 0;
    let inFlight = 0;
    let peak = 0;
    const out: number[] = [];
    const gen = readAhead(
      numbers(20),
      { depth: 4, maxWeight: Infinity, weigh: () => 0 },
      async (n) => {
        expect(preparing).toBe(0);
        preparing++;
        await new Promise((r) => setTimeout(r, 1));
        preparing--;
        return n;
      },
      async (n) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((r) => setTimeout(r, (20 - n) % 5));
        inFlight--;
        return n * 10;
      },
    );
    for await (const value of gen) out.push(value);
    expect(out).toEqual(Array.from({ length: 20 }, (_, i) => i * 10));
    expect(peak).toBeGreaterThan(1);
    expect(peak).toBeLessThanOrEqual(4);
  });

  it('delivers a failure when its item is reached, without an unhandled rejection', async () => {
    const gen = readAhead(numbers(5), { depth: 3, maxWeight: Infinity, weigh: () => 0 }, async (n) => n, async (n) => {
      if (n === 2) throw new Error('cannot read 2');
      return n;
    });
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const value of gen) seen.push(value);
      })(),
    ).rejects.toThrow('cannot read 2');
    expect(seen).toEqual([0, 1]);
  });

  it('keeps the weight of the items started ahead under maxWeight', async () => {
    let held = 0;
    let peak = 0;
    const weights = [5, 1, 1, 8, 1, 1, 1, 9, 2, 2, 2, 2];
    const gen = readAhead(
      numbers(weights.length),
      { depth: 100, maxWeight: 10, weigh: (n: number) => weights[n]! },
      async (n: number) => n,
      async (n: number) => {
        held += weights[n]!;
        peak = Math.max(peak, held);
        await new Promise((r) => setTimeout(r, 1));
        return n;
      },
    );
    const out: number[] = [];
    for await (const n of gen) {
      out.push(n);
      held -= weights[n]!;
    }
    expect(out).toEqual(weights.map((_, i) => i));
    // One item may tip the total over the limit (it is only known once prepared), never two.
    expect(peak).toBeLessThan(10 + 9);
    expect(peak).toBeGreaterThan(5);
  });
});
