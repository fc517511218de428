import { performance } from 'node:perf_hooks';
import type { Lease, LeaseGrant } from './lease.js';

export interface LeaderElectionOptions {
  /** The lease name all replicas compete for. */
  readonly name: string;
  /** This replica (unique among replicas). */
  readonly owner: string;
  /** The lease's time to live: a leader that cannot renew for this long is replaced. */
  readonly ttlMs: number;
  /** How often the leader renews and followers try to acquire (default ttl / 3). */
  readonly renewMs?: number;
  /** Called on every change of leadership of this replica. */
  readonly onChange?: (leader: boolean, grant: LeaseGrant | null) => void;
  /** Called when talking to the lease store fails (the loop keeps going). */
  readonly onError?: (err: unknown) => void;
}

/**
 * Leader election over a `Lease`. The leader renews every `renewMs`; followers try to acquire as
 * often, so a leader that dies or stalls (SIGSTOP, a long GC pause) is replaced within
 * `ttlMs + renewMs` of its last renewal. A stalled leader also stops calling itself leader by its
 * own monotonic clock: `isLeader()` turns false `ttlMs` after the last renewal it sent, before
 * the lease can have expired in the store, so it does not act while a successor may.
 */
export class LeaderElection {
  private grant: LeaseGrant | null = null;
  /** Monotonic time until which the lease is surely still ours. */
  private validUntil = 0;
  private timer: NodeJS.Timeout | undefined;
  private loop: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly renewMs: number;

  constructor(
    private readonly lease: Lease,
    private readonly options: LeaderElectionOptions,
  ) {
    this.renewMs = options.renewMs ?? Math.max(1, Math.floor(options.ttlMs / 3));
    if (this.renewMs >= options.ttlMs) throw new Error(`leader election: renew interval ${this.renewMs} ms must be shorter than the lease ttl ${options.ttlMs} ms`);
  }

  /** Starts competing (first attempt at once). */
  start(): void {
    const step = (): void => {
      this.loop = this.loop.then(() => this.round());
      if (!this.stopped) this.timer = setTimeout(step, this.renewMs);
    };
    step();
  }

  /** True while this replica holds the lease by its own clock. */
  isLeader(): boolean {
    return this.grant !== null && performance.now() < this.validUntil;
  }

  /** The held grant (its fencing token), while leader. */
  current(): LeaseGrant | null {
    return this.isLeader() ? this.grant : null;
  }

  /** Stops competing and gives the lease up, so a follower takes over without waiting for expiry. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.loop;
    const grant = this.grant;
    this.set(null, 0);
    if (grant) await this.lease.release(grant).catch((err: unknown) => this.options.onError?.(err));
  }

  private async round(): Promise<void> {
    if (this.stopped) return;
    const sent = performance.now();
    try {
      if (this.grant) {
        if (await this.lease.renew(this.grant, this.options.ttlMs)) this.validUntil = sent + this.options.ttlMs;
        else this.set(null, 0);
      } else {
        const grant = await this.lease.acquire(this.options.name, this.options.owner, this.options.ttlMs);
        if (grant) this.set(grant, sent + this.options.ttlMs);
      }
    } catch (err) {
      this.options.onError?.(err);
      // Unknown outcome: keep the grant (a later renewal may still succeed) but trust it only until validUntil.
    }
    if (this.grant && performance.now() >= this.validUntil) this.set(null, 0);
  }

  private set(grant: LeaseGrant | null, validUntil: number): void {
    const was = this.grant !== null;
    this.grant = grant;
    this.validUntil = validUntil;
    if (was !== (grant !== null)) this.options.onChange?.(grant !== null, grant);
  }
}
