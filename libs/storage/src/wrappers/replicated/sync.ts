import { hashStream } from '../../conformance/stream-helpers.js';
import type { ObjectInfo } from '../../object-store.js';
import type { NamedStore } from './replicated.store.js';
import { mergeListings } from './merge.js';

/** What `syncLocations` did for one object. */
export interface SyncAction {
  readonly key: string;
  readonly to: string;
  readonly from?: string;
  readonly outcome: 'copied' | 'failed';
  readonly detail?: string;
}

/**
 * Copies every object that some locations have and others lack into the ones that lack it, from
 * the first location that has it. The source is hashed first and the copy is written with that
 * `expectedSha256`, so a copy that changed on the way is never stored. Objects never change once
 * written, so what is present is left alone. Returns what was copied and what could not be.
 */
export async function syncLocations(locations: readonly NamedStore[], prefix = ''): Promise<SyncAction[]> {
  const listings = await Promise.all(locations.map((l) => collectKeys(l.store.list(prefix))));
  const actions: SyncAction[] = [];
  for await (const { key } of mergeListings(locations.map((l) => l.store.list(prefix)))) {
    const holders = locations.filter((_, i) => listings[i]!.has(key));
    for (const [i, target] of locations.entries()) {
      if (listings[i]!.has(key)) continue;
      actions.push(await copyOne(key, holders, target));
    }
  }
  return actions;
}

async function copyOne(key: string, holders: readonly NamedStore[], target: NamedStore): Promise<SyncAction> {
  let lastError = 'no location holds it';
  for (const source of holders) {
    try {
      const { sha256 } = await hashStream(await source.store.get(key));
      await target.store.put(key, await source.store.get(key), { expectedSha256: sha256 });
      return { key, to: target.name, from: source.name, outcome: 'copied' };
    } catch (err) {
      lastError = `${source.name}: ${(err as Error).message}`;
    }
  }
  return { key, to: target.name, outcome: 'failed', detail: lastError };
}

async function collectKeys(items: AsyncIterable<ObjectInfo>): Promise<Set<string>> {
  const keys = new Set<string>();
  for await (const item of items) keys.add(item.key);
  return keys;
}
