import type { Redis } from 'ioredis';
import { RateLimitedError } from '@tresor/errors';

/**
 * Failed-login limits in Redis, per user and per client address: after `maxFailuresPerUser`
 * failures (or `maxFailuresPerIp` from one address) within `minutes`, further logins are refused
 * for `minutes`, even with the right password, so a password cannot be guessed online.
 */
export class LoginThrottle {
  constructor(
    private readonly redis: Redis,
    private readonly limits: { maxFailuresPerUser: number; maxFailuresPerIp: number; minutes: number },
    private readonly prefix = 'tresor:auth:',
  ) {}

  /** Throws RateLimitedError while the user or the address is locked out. */
  async check(username: string, ip: string): Promise<void> {
    const [user, addr] = await this.redis.mget(this.key('lock:user', username), this.key('lock:ip', ip));
    if (user || addr) throw new RateLimitedError(`too many failed logins ${user ? 'for this user' : 'from this address'}: try again in up to ${this.limits.minutes} minutes or ask an admin`);
  }

  /** Counts a failure; locks the user or address out when it reaches its limit. */
  async failed(username: string, ip: string): Promise<void> {
    const window = this.limits.minutes * 60;
    for (const [what, id, max] of [['user', username, this.limits.maxFailuresPerUser], ['ip', ip, this.limits.maxFailuresPerIp]] as const) {
      const counter = this.key(`fail:${what}`, id);
      // The window starts at the first failure; INCR keeps the TTL SET gave.
      const results = (await this.redis.multi().set(counter, '0', 'EX', window, 'NX').incr(counter).exec()) ?? [];
      const count = Number(results[1]?.[1] ?? 0);
      if (count >= max) await this.redis.set(this.key(`lock:${what}`, id), '1', 'EX', window);
    }
  }

  /** A successful login clears the user's failure count (not the address's: one user's success says nothing of others). */
  async succeeded(username: string): Promise<void> {
    await this.redis.del(this.key('fail:user', username));
  }

  private key(kind: string, id: string): string {
    // Login names are case-insensitive in most directories: `Ada` and `ada` share a counter.
    return `${this.prefix}login:${kind}:${Buffer.from(id.toLowerCase()).toString('base64url')}`;
  }
}
