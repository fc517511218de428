/** A held lease: `token` grows with every grant of the same name, so a stale holder can be fenced off. */
export interface LeaseGrant {
  readonly name: string;
  readonly owner: string;
  readonly token: number;
}

/**
 * A named, expiring, exclusive lease (leader election, per-source locks). A holder that stops
 * renewing loses it after its time to live; each grant carries a fencing token larger than every
 * earlier grant's, so whoever checks tokens can refuse a holder that lost its lease unawares.
 */
export interface Lease {
  /** Takes the lease for `ttlMs` if nobody holds it; null if somebody does. */
  acquire(name: string, owner: string, ttlMs: number): Promise<LeaseGrant | null>;
  /** Extends a held lease to `ttlMs` from now; false if it expired or another holder has it. */
  renew(grant: LeaseGrant, ttlMs: number): Promise<boolean>;
  /** Gives the lease up if still held by `grant`; false if it was not. */
  release(grant: LeaseGrant): Promise<boolean>;
  /** The current holder, if any. */
  holder(name: string): Promise<LeaseGrant | null>;
}
