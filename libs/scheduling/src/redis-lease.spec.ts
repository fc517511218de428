import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import type { RedisScope } from '../../../test/support/infra.js';
import { redisScope } from '../../../test/support/infra.js';
import { holdLease } from './held-lease.js';
import { LeaderElection } from './leader.js';
import { RedisLease } from './redis-lease.js';

/** Polls `probe` until true, failing after `ms`. */
async function until(what: string, ms: number, probe: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('RedisLease (real Redis)', () => {
  let scope: RedisScope;
  let redis: Redis;
  let lease: RedisLease;
  beforeEach(async () => {
    scope = await redisScope();
    redis = await scope.client();
    lease = new RedisLease(redis);
  });
  afterEach(async () => {
    await scope.cleanup();
  });

  it('grants a lease to one holder at a time, with growing fencing tokens', async () => {
    const a = await lease.acquire('src', 'a', 10_000);
    expect(a).toEqual({ name: 'src', owner: 'a', token: 1 });
    expect(await lease.acquire('src', 'b', 10_000)).toBeNull();
    expect(await lease.holder('src')).toEqual(a);
    expect(await lease.release(a!)).toBe(true);
    const b = await lease.acquire('src', 'b', 10_000);
    expect(b?.token).toBe(2);
    // Another name has its own counter.
    expect((await lease.acquire('other', 'a', 10_000))?.token).toBe(1);
  });

  it('fences a holder whose lease expired: it can neither renew nor release the successor', async () => {
    const a = (await lease.acquire('src', 'a', 150))!;
    await until('the lease to expire', 10_000, async () => (await lease.holder('src')) === null);
    const b = (await lease.acquire('src', 'b', 10_000))!;
    expect(b.token).toBeGreaterThan(a.token);
    expect(await lease.renew(a, 10_000)).toBe(false);
    expect(await lease.release(a)).toBe(false);
    expect(await lease.holder('src')).toEqual(b);
    // The same owner name with an old token is a different grant.
    const again = (await lease.release(b)) && (await lease.acquire('src', 'a', 10_000));
    expect(again && again.token).toBe(3);
    expect(await lease.renew(a, 10_000)).toBe(false);
  });

  it('renews a held lease past its first expiry', async () => {
    const a = (await lease.acquire('src', 'a', 300))!;
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 100));
      expect(await lease.renew(a, 300)).toBe(true);
    }
    expect(await lease.holder('src')).toEqual(a);
    expect(await redis.pttl('lease:src')).toBeGreaterThan(0);
  });

  it('elects one leader among replicas; a stopped leader hands over, a silent one is replaced after its ttl', async () => {
    const changes: string[] = [];
    const replicas = ['r1', 'r2', 'r3'].map(
      (owner) => new LeaderElection(new RedisLease(redis), { name: 'scheduler', owner, ttlMs: 600, renewMs: 100, onChange: (l) => changes.push(`${owner}:${l}`) }),
    );
    for (const r of replicas) r.start();
    await until('a leader', 10_000, () => replicas.some((r) => r.isLeader()));
    for (let i = 0; i < 10; i++) {
      expect(replicas.filter((r) => r.isLeader())).toHaveLength(1);
      await new Promise((r) => setTimeout(r, 50));
    }
    const first = replicas.find((r) => r.isLeader())!;
    const token = first.current()!.token;
    await first.stop();
    await until('a second leader', 10_000, () => replicas.some((r) => r !== first && r.isLeader()));
    const second = replicas.find((r) => r.isLeader())!;
    expect(second.current()!.token).toBeGreaterThan(token);

    // Silence the second leader's store (as a stalled process would be): the third takes over.
    const silent = second as unknown as { round: () => Promise<void> };
    silent.round = async () => undefined;
    await until('the third replica to lead', 10_000, () => replicas.some((r) => r !== first && r !== second && r.isLeader()));
    expect(second.isLeader()).toBe(false);
    for (const r of replicas) await r.stop();
    expect(changes.filter((c) => c.endsWith(':true'))).toHaveLength(3);
  });
});

describe('holdLease (real Redis)', () => {
  let scope: RedisScope;
  let lease: RedisLease;
  beforeEach(async () => {
    scope = await redisScope();
    lease = new RedisLease(await scope.client());
  });
  afterEach(async () => {
    await scope.cleanup();
  });

  it('serialises holders of one name: the second waits until the first releases', async () => {
    const order: string[] = [];
    const work = async (who: string): Promise<void> => {
      const held = await holdLease(lease, 'source:/k', who, { ttlMs: 2000, pollMs: 20 });
      order.push(`${who}:start`);
      await new Promise((r) => setTimeout(r, 200));
      expect(await held.confirm()).toBe(true);
      order.push(`${who}:end`);
      await held.release();
    };
    await Promise.all([work('a'), work('b'), work('c')]);
    expect(order).toHaveLength(6);
    for (let i = 0; i < 6; i += 2) expect(order[i + 1]).toBe(order[i]!.replace('start', 'end'));
  });

  it('keeps a lease past its ttl while held, and tells a holder that lost it', async () => {
    const held = await holdLease(lease, 'source:/k', 'a', { ttlMs: 300 });
    await new Promise((r) => setTimeout(r, 900));
    expect(await held.confirm()).toBe(true);
    // Someone removes it behind the holder's back (as if it had stalled past its ttl).
    await lease.release(held.grant);
    const b = (await lease.acquire('source:/k', 'b', 10_000))!;
    expect(b.token).toBeGreaterThan(held.grant.token);
    expect(await held.confirm()).toBe(false);
    await held.release();
    expect(await lease.holder('source:/k')).toEqual(b);
  });

  it('reports the holder while waiting, and stops waiting when aborted', async () => {
    await lease.acquire('source:/k', 'a', 10_000);
    const seen: (string | undefined)[] = [];
    const abort = new AbortController();
    const waiting = holdLease(lease, 'source:/k', 'b', { ttlMs: 1000, pollMs: 20, signal: abort.signal, onWait: (h) => seen.push(h?.owner) });
    await until('two waits', 10_000, () => seen.length >= 2);
    abort.abort();
    await expect(waiting).rejects.toThrow();
    expect(seen.every((o) => o === 'a')).toBe(true);
  });
});
