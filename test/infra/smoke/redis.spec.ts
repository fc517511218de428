import { describe, expect, it, onTestFinished } from 'vitest';
import { Redis } from 'ioredis';
import { redisScope, type RedisScope } from '../../support/infra.js';

describe('Redis through ioredis', () => {
  it('sets and gets under a per-test key prefix, and cleanup removes the keys', async () => {
    const scope: RedisScope = await redisScope();
    onTestFinished(() => scope.cleanup());
    const r = await scope.client();
    await r.set('lease:scheduler', 'replica-1', 'PX', 30_000, 'NX');
    expect(await r.set('lease:scheduler', 'replica-2', 'PX', 30_000, 'NX')).toBeNull();
    expect(await r.get('lease:scheduler')).toBe('replica-1');
    await r.incr('ratelimit:ada');

    const raw = new Redis(scope.url);
    try {
      expect(await raw.get(`${scope.keyPrefix}lease:scheduler`)).toBe('replica-1');
      await scope.cleanup();
      expect(await raw.exists(`${scope.keyPrefix}lease:scheduler`, `${scope.keyPrefix}ratelimit:ada`)).toBe(
        0,
      );
    } finally {
      raw.disconnect();
    }
  });
});
