import { Redis } from 'ioredis';
import { Gauge } from 'prom-client';
import type { Logger } from '@tresor/messaging';
import type { LeaseGrant } from '@tresor/scheduling';
import { LeaderElection, RedisLease } from '@tresor/scheduling';
import type { BaseConfig } from './config.js';
import { redisTlsOptions } from './config.js';
import type { ServiceMetrics } from './metrics.js';

export interface LeadershipOptions {
  /** The role replicas compete for; also the lease name (Redis key `<prefix>lease:<role>`). */
  readonly role: string;
  readonly config: BaseConfig & { TRESOR_REDIS_URL?: string | undefined; TRESOR_REDIS_PREFIX: string };
  readonly instance: string;
  readonly ttlMs: number;
  readonly renewMs?: number | undefined;
  readonly logger: Logger;
  readonly metrics: ServiceMetrics;
  /** Called on every change of this replica's leadership (at once with true when there is no Redis). */
  readonly onChange?: (leader: boolean, grant: LeaseGrant | null) => void;
}

/** What `/health/ready` shows of the election (`detail.leader`). */
export interface LeadershipDetail {
  readonly role: string;
  readonly leader: boolean;
  /** `redis`: elected through a lease; `alone`: no TRESOR_REDIS_URL, this replica assumes it is the only one. */
  readonly mode: 'redis' | 'alone';
  readonly token: number | null;
  readonly leaseTtlMs: number;
  /** A dead or stalled leader is replaced within this long of its last renewal (ttl + renew interval). */
  readonly takeoverWithinMs: number;
}

/** This replica's side of a leader election, as a service sees it. */
export interface Leadership {
  /** True while this replica leads (always, without Redis). */
  isLeader(): boolean;
  /** The fencing token while leading (0 without Redis), else null. */
  token(): number | null;
  /** Readiness checks to merge into the service's (`redis` connected). */
  checks(): Record<string, boolean>;
  detail(): LeadershipDetail;
  /** Stops competing and gives the lease up, so a follower takes over at once. */
  stop(): Promise<void>;
}

/**
 * Elects one leader among the replicas of a service through a Redis lease (TRESOR_REDIS_URL,
 * keys under TRESOR_REDIS_PREFIX) and exports `tresor_leader{role}` (1 leader, 0 follower).
 * Without Redis the replica leads alone and says so once in the log.
 */
export function startLeadership(o: LeadershipOptions): Leadership {
  // Lease commands fail fast while Redis is away, so a leader's own clock decides, not a queue.
  const redis = o.config.TRESOR_REDIS_URL
    ? new Redis(o.config.TRESOR_REDIS_URL, { ...redisTlsOptions(o.config), keyPrefix: o.config.TRESOR_REDIS_PREFIX, enableOfflineQueue: false, maxRetriesPerRequest: 0 })
    : undefined;
  redis?.on('error', (err: Error) => o.logger.warn({ err: err.message }, 'redis'));
  const election = redis
    ? new LeaderElection(new RedisLease(redis), {
        name: o.role,
        owner: o.instance.replaceAll('#', '_'),
        ttlMs: o.ttlMs,
        ...(o.renewMs ? { renewMs: o.renewMs } : {}),
        onChange: (leader, grant) => {
          o.logger.info({ role: o.role, leader, token: grant?.token }, leader ? `${o.role} leader: elected` : `${o.role} leader: lost`);
          o.onChange?.(leader, grant);
        },
        onError: (err) => o.logger.warn({ err: (err as Error).message }, 'leader election: lease store failed'),
      })
    : undefined;
  const token = (): number | null => (election ? (election.current()?.token ?? null) : 0);
  const isLeader = (): boolean => token() !== null;
  new Gauge({
    name: 'tresor_leader',
    help: 'This replica leads its role (1) or follows (0): only the leader fires schedules (scheduler) or runs checks and delivers alerts (monitoring).',
    labelNames: ['role'],
    registers: [o.metrics.registry],
    collect() {
      this.set({ role: o.role }, isLeader() ? 1 : 0);
    },
  });
  if (election) election.start();
  else {
    o.logger.warn({ role: o.role }, `TRESOR_REDIS_URL is not set: this ${o.role} leads alone (run one replica only)`);
    o.onChange?.(true, null);
  }
  const renewMs = o.renewMs ?? Math.max(1, Math.floor(o.ttlMs / 3));
  return {
    isLeader,
    token,
    checks: (): Record<string, boolean> => (redis ? { redis: redis.status === 'ready' } : {}),
    detail: () => ({ role: o.role, leader: isLeader(), mode: election ? 'redis' : 'alone', token: token(), leaseTtlMs: o.ttlMs, takeoverWithinMs: o.ttlMs + renewMs }),
    async stop() {
      await election?.stop();
      redis?.disconnect();
    },
  };
}
