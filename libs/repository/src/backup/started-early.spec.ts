import { describe, expect, it } from 'vitest';
import { StartedEarly } from './started-early.js';

/** A generator that records when it starts, what it yields and whether its finally ran. */
function tracked(items: number[], failAt?: number) {
  const log: string[] = [];
  async function* generate(): AsyncGenerator<number> {
    log.push('started');
    try {
      for (const [i, item] of items.entries()) {
        if (i === failAt) throw new Error(`item ${i} failed`);
        yield item;
      }
    } finally {
      log.push('closed');
    }
  }
  return { log, items: generate() };
}

describe('StartedEarly', () => {
  it('asks for the first item when created, and a loop still gets every item once, in order', async () => {
    const { log, items } = tracked([1, 2, 3]);
    const early = new StartedEarly(items);
    await new Promise((resolve) => setImmediate(resolve));
    expect(log).toEqual(['started']);
    const seen: number[] = [];
    for await (const item of early) seen.push(item);
    expect(seen).toEqual([1, 2, 3]);
    expect(log).toEqual(['started', 'closed']);
    await early.stop();
    expect(log).toEqual(['started', 'closed']);
  });

  it('stop closes what it started when no loop took it', async () => {
    const { log, items } = tracked([1, 2, 3]);
    await new StartedEarly(items).stop();
    expect(log).toEqual(['started', 'closed']);
  });

  it('a loop that ends early closes it', async () => {
    const { log, items } = tracked([1, 2, 3]);
    for await (const item of new StartedEarly(items)) if (item === 1) break;
    expect(log).toEqual(['started', 'closed']);
  });

  it('a failing first item is the loop’s to report, not an unhandled rejection meanwhile', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const early = new StartedEarly(tracked([1], 0).items);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(unhandled).toEqual([]);
      const loop = (async () => {
        for await (const item of early) expect(item).toBeUndefined();
      })();
      await expect(loop).rejects.toThrow('item 0 failed');
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('is iterated once', async () => {
    const early = new StartedEarly(tracked([1]).items);
    early[Symbol.asyncIterator]();
    expect(() => early[Symbol.asyncIterator]()).toThrow(/iterated once/);
    await early.stop();
  });
});
