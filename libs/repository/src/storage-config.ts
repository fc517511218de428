import { isAbsolute, join } from 'node:path';
import { Readable } from 'node:stream';
import { IoError, UsageError } from '@tresor/errors';
import type { NamedStore, ObjectStore, StorageLocation } from '@tresor/storage';
import { defaultQuorumGraceMs, openLocation, parseStorageLocation, ReplicatedStore, settleWithGrace } from '@tresor/storage';
import { z } from 'zod';

/** The original single-location form `{ type: 'local', path }`, still read and written by default. */
const singleLocalSchema = z.object({ type: z.literal('local'), path: z.string().min(1) }).strict();

/** Several named locations (the 3-2-1 rule) and how many must take each write (ADR 11). */
const locationsSchema = z
  .object({
    locations: z.array(z.unknown()).min(1, 'name at least one location'),
    writePolicy: z.enum(['all', 'quorum']).default('all'),
    /** Under quorum: seconds to wait for the other locations once a majority answered (default 60). */
    quorumGraceSeconds: z.number().positive().max(3600).optional(),
  })
  .strict();

/** `storage` of tresor.json: either form; each location is validated by its backend's parser. */
export const storageConfigSchema = z.unknown().transform((raw, ctx): StorageConfig => {
  const isMulti = typeof raw === 'object' && raw !== null && 'locations' in raw;
  const parsed = (isMulti ? locationsSchema : singleLocalSchema).safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues)
      ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
    return z.NEVER;
  }
  if (!('locations' in parsed.data)) return parsed.data;
  const names = new Set<string>();
  for (const [i, location] of parsed.data.locations.entries()) {
    try {
      // Relative local paths are resolved against the repository directory when opened.
      const { name } = parseStorageLocation(location, '/');
      if (names.has(name)) throw new UsageError(`storage location ${name}: name is used twice`);
      names.add(name);
    } catch (err) {
      ctx.addIssue({ code: 'custom', path: ['locations', i], message: (err as Error).message });
      return z.NEVER;
    }
  }
  return parsed.data as StorageConfig;
});

export type StorageConfig =
  | { type: 'local'; path: string }
  | { locations: unknown[]; writePolicy: 'all' | 'quorum'; quorumGraceSeconds?: number };

/** The locations of a repository's storage config, parsed, relative local paths resolved against `dir`. */
export function storageLocations(storage: StorageConfig, dir: string): StorageLocation[] {
  if (!('locations' in storage)) {
    const path = isAbsolute(storage.path) ? storage.path : join(dir, storage.path);
    return [parseStorageLocation({ name: 'local', type: 'local', path })];
  }
  return storage.locations.map((raw) => parseStorageLocation(raw, dir));
}

/**
 * Opens every location of the config. A location that cannot be opened fails the whole open under
 * `all`; under `quorum` it stays in the set as unavailable (its writes are reported as degraded)
 * as long as a majority opened.
 */
export async function openStorage(
  storage: StorageConfig,
  dir: string,
  onDegraded?: (location: string, key: string, error: unknown) => void,
): Promise<ObjectStore> {
  const locations = storageLocations(storage, dir);
  const policy = 'locations' in storage ? storage.writePolicy : 'all';
  const needed = policy === 'all' ? locations.length : Math.floor(locations.length / 2) + 1;
  const graceSeconds = 'locations' in storage ? storage.quorumGraceSeconds : undefined;
  const graceMs = graceSeconds !== undefined ? graceSeconds * 1000 : defaultQuorumGraceMs;
  const opened =
    policy === 'quorum' && needed < locations.length
      ? await settleWithGrace(
          locations.map((l) => openLocation(l)),
          needed,
          graceMs,
          () => new IoError(`did not open within ${graceMs / 1000} s after the other locations had (write policy quorum)`),
          // Opened after all, too late for this run: let go of its connections.
          (_i, late) => void (late.status === 'fulfilled' ? late.value.close?.() : undefined),
        )
      : await Promise.allSettled(locations.map((l) => openLocation(l)));
  const failures = opened.flatMap((r, i) =>
    r.status === 'rejected' ? [[locations[i]!.name, r.reason] as const] : [],
  );
  if (locations.length - failures.length < needed) {
    await Promise.allSettled(opened.map((r) => (r.status === 'fulfilled' ? r.value.close?.() : undefined)));
    const [name, reason] = failures[0]!;
    if (locations.length === 1) throw reason;
    throw new IoError(
      `storage location ${name} is unavailable and write policy ${policy} needs ${needed} of ${locations.length} locations: ${(reason as Error).message}`,
      { cause: reason },
    );
  }
  if (locations.length === 1) return (opened[0] as PromiseFulfilledResult<ObjectStore>).value;
  const named: NamedStore[] = opened.map((r, i) => ({
    name: locations[i]!.name,
    store: r.status === 'fulfilled' ? r.value : unavailable(locations[i]!.name, r.reason),
  }));
  for (const [name, reason] of failures) onDegraded?.(name, '(open)', reason);
  return new ReplicatedStore(named, { policy, quorumGraceMs: graceMs, ...(onDegraded ? { onDegraded } : {}) });
}

/** A location that could not be opened: every operation fails with the reason. */
function unavailable(name: string, reason: unknown): ObjectStore {
  const fail = async (): Promise<never> => {
    throw reason;
  };
  return {
    location: `${name} (unavailable)`,
    capabilities: { immutability: false, rangedReads: false, serverSideCopy: false },
    // The port's contract: a failed put destroys its body stream.
    put: async (_key, body) => {
      if (body instanceof Readable) body.destroy();
      return fail();
    },
    get: fail,
    head: fail,
    delete: fail,
    // eslint-disable-next-line require-yield -- an unavailable location lists nothing but the failure
    list: async function* () {
      throw reason;
    },
  };
}
