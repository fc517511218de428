import { describe, expect, it } from 'vitest';
import { jitterMs, runId } from './jitter.js';

describe('jitter', () => {
  it('is the same for the same run on every replica, and bounded', () => {
    const ids = Array.from({ length: 500 }, (_, i) => runId('sched-1', new Date(Date.UTC(2030, 0, 1, 0, 0, i))));
    const a = ids.map((id) => jitterMs(id, 30_000));
    const b = ids.map((id) => jitterMs(id, 30_000));
    expect(a).toEqual(b);
    expect(a.every((j) => Number.isInteger(j) && j >= 0 && j <= 30_000)).toBe(true);
  });

  it('spreads runs over the bound', () => {
    const js = Array.from({ length: 1000 }, (_, i) => jitterMs(runId(`s-${i}`, new Date(0)), 1000));
    // Ten buckets of a uniform spread each get about 100 of 1000; none is empty or holds a third.
    const buckets = Array.from({ length: 10 }, (_, b) => js.filter((j) => Math.min(9, Math.floor(j / 100)) === b).length);
    expect(Math.min(...buckets)).toBeGreaterThan(50);
    expect(Math.max(...buckets)).toBeLessThan(333);
    expect(jitterMs('x', 0)).toBe(0);
  });

  it('names a run by its schedule and due time', () => {
    expect(runId('sched-1', new Date('2030-01-01T02:00:00Z'))).toBe('sched-1@2030-01-01T02:00:00.000Z');
  });
});
