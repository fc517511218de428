import { Readable } from 'node:stream';
import {
  ConflictError,
  IntegrityError,
  IoError,
  NotFoundError,
  TresorError,
  UsageError,
} from '@tresor/errors';
import { hashObject } from '../../hash-stream.js';
import type {
  ByteRange,
  ObjectInfo,
  ObjectStore,
  PutOptions,
  PutResult,
  StoreCapabilities,
} from '../../object-store.js';
import { settleWithGrace } from './grace.js';
import { mergeListings } from './merge.js';
import { tee } from './tee.js';

/** One named storage location of a replicated store. */
export interface NamedStore {
  readonly name: string;
  readonly store: ObjectStore;
}

/** `all`: a write succeeds only if every location stored it; `quorum`: a majority is enough. */
export type WritePolicy = 'all' | 'quorum';

export interface ReplicatedOptions {
  readonly policy: WritePolicy;
  /** Told about each location that missed a write the policy still accepted (for `tresor storage sync`). */
  readonly onDegraded?: (location: string, key: string, error: unknown) => void;
  /**
   * Under `quorum`: how long a write waits for the remaining locations once a majority stored it
   * (and how long a location may hold the others' stream back) before it is cut off and reported
   * as degraded. Default 60 s.
   */
  readonly quorumGraceMs?: number;
}

/** How long a quorum write waits for stragglers by default. */
export const defaultQuorumGraceMs = 60_000;

/**
 * The copies a store holds, in read order: the locations of a replicated store, else the store
 * itself (named by its location). Callers that must pick a verified copy (restore, verify) check
 * each in turn.
 */
export function copiesOf(store: ObjectStore): readonly NamedStore[] {
  return store instanceof ReplicatedStore ? store.locations : [{ name: store.location, store }];
}

/** How often, and how long apart, a winning writer retries a location a losing racer is still rolling back. */
const repairAttempts = 20;
const repairDelayMs = 100;

/**
 * The same objects in several locations (the 3-2-1 rule). Writes go to every location at once,
 * streamed through a tee; the first location that answered (success or conflict) decides whether the
 * key was free, so of racing writers exactly one wins everywhere. Reads try the locations in order
 * and fall back on failure; `getVerified` also falls back on a hash mismatch. A location that missed
 * a write under `quorum` is repaired by `syncLocations`.
 */
export class ReplicatedStore implements ObjectStore {
  readonly location: string;
  readonly capabilities: StoreCapabilities;
  /** Present when some location can retain objects: the latest retention among the copies. */
  readonly retainedUntil?: (key: string) => Promise<Date | undefined>;
  private readonly needed: number;

  constructor(
    readonly locations: readonly NamedStore[],
    private readonly options: ReplicatedOptions,
  ) {
    if (locations.length === 0) throw new UsageError('a replicated store needs at least one location');
    const names = new Set(locations.map((l) => l.name));
    if (names.size !== locations.length) throw new UsageError('storage location names must be unique');
    this.location = `replicated(${options.policy}):[${locations.map((l) => `${l.name}=${l.store.location}`).join(', ')}]`;
    this.needed = options.policy === 'all' ? locations.length : Math.floor(locations.length / 2) + 1;
    const every = (c: keyof StoreCapabilities): boolean => locations.every((l) => l.store.capabilities[c]);
    this.capabilities = {
      immutability: every('immutability'),
      rangedReads: every('rangedReads'),
      serverSideCopy: false,
    };
    const retaining = locations.filter((l) => l.store.retainedUntil);
    if (retaining.length > 0) {
      // Every location must answer: a copy whose lock is unknown may still be locked.
      this.retainedUntil = async (key) => {
        const ends = await Promise.all(retaining.map((l) => l.store.retainedUntil!(key)));
        return ends.reduce<Date | undefined>((latest, end) => (end && (!latest || end > latest) ? end : latest), undefined);
      };
    }
  }

  async put(key: string, body: Readable | Uint8Array, options: PutOptions = {}): Promise<PutResult> {
    // Locations cut off under quorum for holding the others back, and why.
    const cut = new Map<number, Error>();
    const quorum = this.options.policy === 'quorum' && this.needed < this.locations.length;
    const graceMs = this.options.quorumGraceMs ?? defaultQuorumGraceMs;
    const stall = quorum ? { afterMs: graceMs, minLive: this.needed, onCut: (i: number, e: Error) => cut.set(i, e) } : undefined;
    const bodies =
      body instanceof Uint8Array ? this.locations.map(() => body) : tee(body, this.locations.length, stall);
    const attempts = this.locations.map(async (l, i) => {
      const branch = bodies[i]!;
      try {
        return await l.store.put(key, branch, options);
      } catch (err) {
        // A branch nobody reads any more would hold the tee, and so every other location, back.
        if (branch instanceof Readable) branch.destroy();
        throw err;
      }
    });
    const settled = quorum
      ? await settleWithGrace(attempts, this.needed, graceMs, (i) => {
          const error = new Error(`did not finish within ${graceMs / 1000} s after the other locations had the object`);
          cut.set(i, error);
          const branch = bodies[i];
          if (branch instanceof Readable) branch.destroy(error);
          return error;
        })
      : await Promise.allSettled(attempts);
    const results = settled.map((r, i): PromiseSettledResult<PutResult> => {
      const why = cut.get(i);
      if (r.status === 'fulfilled' || why === undefined) return r;
      const reason = new IoError(
        `storage location ${this.locations[i]!.name} was cut off: it ${why.message} (write policy quorum; \`tresor storage sync\` copies it later)`,
        { cause: r.reason },
      );
      return { status: 'rejected', reason };
    });
    const arbiter = results.findIndex((r) => r.status === 'fulfilled' || r.reason instanceof ConflictError);
    if (arbiter === -1) throw this.failure(`cannot store object ${key}`, results);
    const decided = results[arbiter]!;
    if (decided.status === 'rejected') {
      await this.rollBack(key, results);
      throw decided.reason;
    }
    const stored = await Promise.all(
      results.map(async (result, i) => {
        if (result.status === 'fulfilled') return true;
        if (
          result.reason instanceof ConflictError &&
          (await this.repair(key, arbiter, i, decided.value.sha256))
        )
          return true;
        this.options.onDegraded?.(this.locations[i]!.name, key, result.reason);
        return false;
      }),
    );
    if (stored.filter(Boolean).length < this.needed) {
      await this.rollBack(key, results);
      throw this.failure(`cannot store object ${key} under write policy ${this.options.policy}`, results);
    }
    return decided.value;
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    return this.firstThat(`cannot read object ${key}`, (store) => store.get(key, range));
  }

  /** The whole object from the first location whose copy hashes to `sha256` (each candidate is read twice). */
  async getVerified(key: string, sha256: string): Promise<Readable> {
    return this.firstThat(`cannot read a copy of object ${key} with SHA-256 ${sha256}`, async (store) => {
      const actual = await hashObject(store, key);
      if (actual.sha256 !== sha256) {
        throw new IntegrityError(
          `object ${key} in ${store.location} hashes to ${actual.sha256}, expected ${sha256}`,
        );
      }
      return store.get(key);
    });
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    try {
      return await this.firstThat(`cannot read object ${key}`, async (store) => {
        const info = await store.head(key);
        if (info === undefined) throw new NotFoundError(`object ${key} not found in ${store.location}`);
        return info;
      });
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  /**
   * The union of the locations' objects, in key order. Under `quorum` a location that fails to list
   * is skipped (every object is on a majority, and any two majorities share a location); under
   * `all` its failure is the listing's.
   */
  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    yield* mergeListings(this.locations.map((l) => this.listing(l, prefix)));
  }

  private async *listing(location: NamedStore, prefix: string): AsyncIterable<ObjectInfo> {
    try {
      yield* location.store.list(prefix);
    } catch (err) {
      if (this.options.policy === 'all' || err instanceof UsageError) throw err;
      this.options.onDegraded?.(location.name, `${prefix}*`, err);
    }
  }

  async delete(key: string): Promise<void> {
    const results = await Promise.allSettled(this.locations.map((l) => l.store.delete(key)));
    if (results.some((r) => r.status === 'rejected'))
      throw this.failure(`cannot delete object ${key}`, results);
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.locations.map((l) => l.store.close?.()));
  }

  /** Copies the winner's object from the arbiter to a location that reported a conflict, once a losing racer rolled back. */
  private async repair(key: string, from: number, to: number, sha256: string): Promise<boolean> {
    const source = this.locations[from]!.store;
    const target = this.locations[to]!.store;
    for (let attempt = 0; attempt < repairAttempts; attempt++) {
      try {
        await target.put(key, await source.get(key), { expectedSha256: sha256 });
        return true;
      } catch (err) {
        if (!(err instanceof ConflictError)) return false;
        // Already there with the same content (an earlier partial write of the same object).
        const present = await hashObject(target, key).catch(() => undefined);
        if (present?.sha256 === sha256) return true;
      }
      await new Promise((resolve) => setTimeout(resolve, repairDelayMs));
    }
    return false;
  }

  /** Removes the copies this put wrote, so that a failed put leaves nothing visible. */
  private async rollBack(key: string, results: PromiseSettledResult<PutResult>[]): Promise<void> {
    await Promise.allSettled(
      results.map((r, i) => (r.status === 'fulfilled' ? this.locations[i]!.store.delete(key) : undefined)),
    );
  }

  private async firstThat<T>(doing: string, attempt: (store: ObjectStore) => Promise<T>): Promise<T> {
    const errors: unknown[] = [];
    for (const location of this.locations) {
      try {
        return await attempt(location.store);
      } catch (err) {
        // A bad argument is bad everywhere; anything else may be local to this location.
        if (err instanceof UsageError) throw err;
        errors.push(err);
      }
    }
    if (errors.every((e) => e instanceof NotFoundError)) throw errors[0];
    throw this.failure(
      doing,
      errors.map((reason) => ({ status: 'rejected', reason }) as const),
    );
  }

  private failure(doing: string, results: readonly PromiseSettledResult<unknown>[]): TresorError {
    const reasons = results.flatMap((r, i) =>
      r.status === 'rejected' ? [`${this.locations[i]?.name ?? i}: ${(r.reason as Error).message}`] : [],
    );
    const rejections = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    const first = rejections[0];
    // The same kind of failure everywhere (a bad key, a hash mismatch) is that failure, not an
    // outage; an outage (IoError) is told with the names of the locations it hit.
    if (
      first instanceof TresorError &&
      !(first instanceof IoError) &&
      rejections.every((r) => (r as object).constructor === first.constructor)
    ) {
      return first;
    }
    return new IoError(`${doing} in ${reasons.length} location(s): ${reasons.join('; ')}`, { cause: first });
  }
}
