import { describe, expect, it } from 'vitest';
import { backoffDelay } from './http-post.js';

const policy = { attempts: 5, initialBackoffMs: 1000, maxBackoffMs: 3000, timeoutMs: 1000 };

describe('backoffDelay', () => {
  it('doubles from the initial delay up to the cap, taking at most 20 % off, bounds included', () => {
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, policy, () => 0))).toEqual([1000, 2000, 3000, 3000]);
    // The largest jitter random() can give rounds to exactly 80 %.
    expect([1, 2, 3].map((n) => backoffDelay(n, policy, () => 0.9999999))).toEqual([800, 1600, 2400]);
    expect(backoffDelay(2, policy, () => 0.5)).toBe(1800);
  });
});
