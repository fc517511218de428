import type { Redis } from 'ioredis';
import type { Lease, LeaseGrant } from './lease.js';

// KEYS[1] lease, KEYS[2] fencing counter; ARGV owner, ttl. SET NX PX and INCR in one script, so a
// token is only ever spent on a grant and grants are ordered by token.
const ACQUIRE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. '#' .. token, 'NX', 'PX', ARGV[2])
return token`;
// KEYS[1] lease; ARGV value, ttl. Only the holder whose value (owner and token) is stored renews.
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/** Leases in Redis: `<prefix>lease:<name>` holds `<owner>#<token>`; `<prefix>fence:<name>` counts grants. */
export class RedisLease implements Lease {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = '',
  ) {}

  async acquire(name: string, owner: string, ttlMs: number): Promise<LeaseGrant | null> {
    if (owner.includes('#')) throw new Error(`lease owner '${owner}' must not contain '#'`);
    const token = (await this.redis.eval(ACQUIRE, 2, this.key(name), this.fence(name), owner, String(Math.ceil(ttlMs)))) as number | null;
    return token === null ? null : { name, owner, token: Number(token) };
  }

  async renew(grant: LeaseGrant, ttlMs: number): Promise<boolean> {
    return (await this.redis.eval(RENEW, 1, this.key(grant.name), value(grant), String(Math.ceil(ttlMs)))) === 1;
  }

  async release(grant: LeaseGrant): Promise<boolean> {
    return (await this.redis.eval(RELEASE, 1, this.key(grant.name), value(grant))) === 1;
  }

  async holder(name: string): Promise<LeaseGrant | null> {
    const v = await this.redis.get(this.key(name));
    if (!v) return null;
    const at = v.lastIndexOf('#');
    return { name, owner: v.slice(0, at), token: Number(v.slice(at + 1)) };
  }

  private key(name: string): string {
    return `${this.prefix}lease:${name}`;
  }

  private fence(name: string): string {
    return `${this.prefix}fence:${name}`;
  }
}

function value(grant: LeaseGrant): string {
  return `${grant.owner}#${grant.token}`;
}
