import { hashObject } from '../../hash-stream.js';
import type { ObjectInfo } from '../../object-store.js';
import { ColdObjectError } from '../../tiering/storage-class.js';
import type { NamedStore } from './replicated.store.js';
import { mergeListings } from './merge.js';

/** What `syncLocations` did for one object in one location. */
export interface SyncAction {
  readonly key: string;
  readonly to: string;
  readonly from?: string;
  /**
   * copied: it was missing; repaired: a wrong copy was replaced; skipped: a copy in an offline
   * class could not be read to check it (left alone); failed: see detail.
   */
  readonly outcome: 'copied' | 'repaired' | 'skipped' | 'failed';
  readonly detail?: string;
}

/** What an object must be, where the caller knows it (the catalog knows archives and manifests). */
export interface ExpectedObject {
  readonly sha256?: string;
  readonly size?: number;
}

export interface SyncOptions {
  /** Only keys under this prefix. */
  readonly prefix?: string;
  /**
   * Hash every copy in every location (reads all of them) so that a copy with the right size but
   * wrong bytes is found too. Without it only sizes are compared, from the listings alone.
   */
  readonly verifyContent?: boolean;
  readonly expected?: (key: string) => ExpectedObject | undefined;
}

/** A copy's facts as far as they were looked at. */
interface Copy {
  readonly location: NamedStore;
  readonly size: number;
  sha256?: string;
  readError?: unknown;
}

/**
 * Makes every location hold a right copy of every object some location has. Missing copies are
 * copied from a right one. A copy is wrong when its size (or, with `verifyContent`, its SHA-256)
 * differs from what `expected` says, or, where nothing is expected, from what a strict majority of
 * the copies agree on; a wrong copy is deleted and copied again. Copies that disagree with no
 * majority and no expectation are left alone and reported as failed. Each copy is written with
 * the source's SHA-256 as `expectedSha256`, so nothing changes on the way unnoticed.
 */
export async function syncLocations(
  locations: readonly NamedStore[],
  options: SyncOptions | string = {},
): Promise<SyncAction[]> {
  const {
    prefix = '',
    verifyContent = false,
    expected,
  } = typeof options === 'string' ? { prefix: options } : options;
  const listings = await Promise.all(locations.map((l) => collect(l.store.list(prefix))));
  const actions: SyncAction[] = [];
  for await (const { key } of mergeListings(locations.map((l) => l.store.list(prefix)))) {
    const copies: Copy[] = locations.flatMap((location, i) => {
      const info = listings[i]!.get(key);
      return info ? [{ location, size: info.size }] : [];
    });
    if (verifyContent) await Promise.all(copies.map((c) => hashCopy(key, c)));
    const verdict = judge(copies, expected?.(key), verifyContent);
    const good = copies.filter((c) => c.readError === undefined && !verdict.bad.has(c));
    for (const location of locations) {
      const copy = copies.find((c) => c.location === location);
      if (copy?.readError !== undefined) {
        // A copy that cannot be read is not known to be wrong: it is reported, never replaced.
        const cold = copy.readError instanceof ColdObjectError;
        const message = (copy.readError as Error).message;
        actions.push({
          key,
          to: location.name,
          outcome: cold ? 'skipped' : 'failed',
          detail: cold ? message : `cannot read it to check it: ${message}`,
        });
        continue;
      }
      if (copy !== undefined && !verdict.bad.has(copy)) continue;
      if (good.length === 0) {
        const detail =
          copy === undefined ? `no right copy to copy from (${verdict.summary})` : verdict.why.get(copy)!;
        actions.push({ key, to: location.name, outcome: 'failed', detail });
        continue;
      }
      actions.push(await copyOne(key, good, location, copy && verdict.why.get(copy)));
    }
  }
  return actions;
}

/** Which copies are wrong, and why, by the expectation or else by a strict majority. */
function judge(
  copies: readonly Copy[],
  expected: ExpectedObject | undefined,
  verifyContent: boolean,
): { bad: Set<Copy>; why: Map<Copy, string>; summary: string } {
  const bad = new Set<Copy>();
  const why = new Map<Copy, string>();
  const mark = (copy: Copy, reason: string): void => {
    bad.add(copy);
    why.set(copy, reason);
  };
  const readable = copies.filter((c) => c.readError === undefined);
  const fingerprint = (c: Copy): string => (verifyContent ? `${c.size}:${c.sha256}` : String(c.size));
  let right: string | undefined;
  if (expected?.size !== undefined || (verifyContent && expected?.sha256 !== undefined)) {
    for (const c of readable) {
      if (expected.size !== undefined && c.size !== expected.size)
        mark(c, `size ${c.size}, expected ${expected.size}`);
      else if (verifyContent && expected.sha256 !== undefined && c.sha256 !== expected.sha256)
        mark(c, `SHA-256 ${c.sha256}, expected ${expected.sha256}`);
    }
    return { bad, why, summary: 'no copy matches the catalog' };
  }
  const votes = new Map<string, number>();
  for (const c of readable) votes.set(fingerprint(c), (votes.get(fingerprint(c)) ?? 0) + 1);
  if (votes.size <= 1) return { bad, why, summary: 'no readable copy' };
  for (const [value, count] of votes) if (count * 2 > readable.length) right = value;
  for (const c of readable) {
    if (right === undefined)
      mark(c, `copies differ (${[...votes.keys()].join(' / ')}) and nothing says which is right`);
    else if (fingerprint(c) !== right)
      mark(
        c,
        c.size !== Number(right.split(':')[0])
          ? `size ${c.size}, the other copies ${right.split(':')[0]}`
          : `SHA-256 ${c.sha256} differs from the other copies`,
      );
  }
  return { bad, why, summary: 'copies differ' };
}

async function hashCopy(key: string, copy: Copy): Promise<void> {
  try {
    const { sha256, size } = await hashObject(copy.location.store, key);
    copy.sha256 = sha256;
    // A size that changed since the listing counts as what was read.
    (copy as { size: number }).size = size;
  } catch (err) {
    copy.readError = err;
  }
}

async function copyOne(
  key: string,
  sources: readonly Copy[],
  target: NamedStore,
  wrong: string | undefined,
): Promise<SyncAction> {
  let lastError = 'no location holds it';
  if (wrong !== undefined) {
    try {
      await target.store.delete(key);
    } catch (err) {
      return {
        key,
        to: target.name,
        outcome: 'failed',
        detail: `${wrong}; cannot delete it: ${(err as Error).message}`,
      };
    }
  }
  for (const source of sources) {
    try {
      const sha256 = source.sha256 ?? (await hashObject(source.location.store, key)).sha256;
      await target.store.put(key, await source.location.store.get(key), { expectedSha256: sha256 });
      return {
        key,
        to: target.name,
        from: source.location.name,
        outcome: wrong === undefined ? 'copied' : 'repaired',
        ...(wrong !== undefined ? { detail: wrong } : {}),
      };
    } catch (err) {
      lastError = `${source.location.name}: ${(err as Error).message}`;
    }
  }
  return {
    key,
    to: target.name,
    outcome: 'failed',
    detail: wrong === undefined ? lastError : `${wrong}; deleted, and ${lastError}`,
  };
}

async function collect(items: AsyncIterable<ObjectInfo>): Promise<Map<string, ObjectInfo>> {
  const infos = new Map<string, ObjectInfo>();
  for await (const item of items) infos.set(item.key, item);
  return infos;
}
