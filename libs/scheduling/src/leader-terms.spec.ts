import { describe, expect, it } from 'vitest';
import { LeaderTerms } from './leader-terms.js';

describe('LeaderTerms', () => {
  it('runs one term per period of leadership, never two at once, each after the last one stopped; the latest change wins', async () => {
    const log: string[] = [];
    let n = 0;
    let live = 0;
    const terms = new LeaderTerms(async () => {
      const id = ++n;
      live++;
      expect(live).toBe(1);
      log.push(`start ${id}`);
      await new Promise((r) => setTimeout(r, 5));
      return async () => {
        await new Promise((r) => setTimeout(r, 5));
        log.push(`stop ${id}`);
        live--;
      };
    });
    // A flapping lease: changes arrive faster than a term starts; the latest one decides.
    void terms.set(true);
    void terms.set(false);
    await terms.set(true);
    expect(terms.running()).toBe(true);
    // Lost and won back before the stop ran: the term keeps running.
    void terms.set(false);
    await terms.set(true);
    expect(log).toEqual(['start 1']);
    await terms.set(false);
    await terms.set(true);
    await terms.stop();
    expect(terms.running()).toBe(false);
    expect(log).toEqual(['start 1', 'stop 1', 'start 2', 'stop 2']);
  });

  it('retries a term that failed to start while still leader, and gives up when leadership is lost', async () => {
    const errors: string[] = [];
    let attempts = 0;
    const terms = new LeaderTerms(
      async () => {
        if (++attempts < 3) throw new Error(`store away (${attempts})`);
        return async () => undefined;
      },
      { retryMs: 10, onError: (err) => errors.push((err as Error).message) },
    );
    await terms.set(true);
    for (let i = 0; i < 100 && !terms.running(); i++) await new Promise((r) => setTimeout(r, 10));
    expect(terms.running()).toBe(true);
    expect(errors).toEqual(['store away (1)', 'store away (2)']);
    await terms.stop();

    const failing = new LeaderTerms(
      async () => {
        attempts++;
        throw new Error('store away');
      },
      { retryMs: 10 },
    );
    attempts = 0;
    await failing.set(true);
    await failing.set(false);
    await new Promise((r) => setTimeout(r, 50));
    expect(attempts).toBe(1);
  });
});
