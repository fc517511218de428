import type { Lease, LeaseGrant } from './lease.js';

export interface HoldOptions {
  readonly ttlMs: number;
  /** How often to retry while somebody else holds the lease. */
  readonly pollMs?: number;
  /** Called on every retry while waiting (e.g. to tell a work queue the job is still alive). */
  readonly onWait?: (holder: LeaseGrant | null) => void;
  /** Stops waiting (the lease is then not taken). */
  readonly signal?: AbortSignal;
}

/** A lease held for the length of some work, renewed in the background. */
export interface HeldLease {
  readonly grant: LeaseGrant;
  /** Renews now: true while the lease is still ours (check it before a commit point). */
  confirm(): Promise<boolean>;
  /** Stops renewing and gives the lease up. */
  release(): Promise<void>;
}

/**
 * Waits until the lease `name` is free, takes it and keeps it renewed every `ttlMs / 3` until
 * released. If the holder dies the lease lapses after `ttlMs`; if it only stalled, `confirm()`
 * tells it so before it commits, and the fencing token orders it behind its successor.
 */
export async function holdLease(lease: Lease, name: string, owner: string, options: HoldOptions): Promise<HeldLease> {
  const pollMs = options.pollMs ?? 1000;
  let grant: LeaseGrant | null = null;
  while (!(grant = await lease.acquire(name, owner, options.ttlMs))) {
    options.signal?.throwIfAborted();
    options.onWait?.(await lease.holder(name));
    await new Promise((r) => setTimeout(r, pollMs));
  }
  const held = grant;
  let lost = false;
  const timer = setInterval(() => {
    lease.renew(held, options.ttlMs).then(
      (ok) => (lost ||= !ok),
      () => undefined, // a failed renewal is retried; confirm() decides at the commit point
    );
  }, Math.max(1, Math.floor(options.ttlMs / 3)));
  timer.unref();
  return {
    grant: held,
    async confirm() {
      if (lost) return false;
      lost = !(await lease.renew(held, options.ttlMs));
      return !lost;
    },
    async release() {
      clearInterval(timer);
      await lease.release(held);
    },
  };
}
