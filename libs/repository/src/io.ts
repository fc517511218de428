import { IntegrityError, NotFoundError, UsageError } from '@tresor/errors';
import { ColdObjectError, copiesOf, hashObject } from '@tresor/storage';
import type { ObjectStore } from '@tresor/storage';

/** Reads a whole (small) object into memory: manifests and repository.json only. */
export async function readObject(store: ObjectStore, key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await store.get(key)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A stored copy of an archive that hashes to what its manifest says. */
export interface ArchiveCopy {
  readonly store: ObjectStore;
  /** Copies passed over on the way (another location's corrupt, truncated, missing or unreadable copy). */
  readonly warnings: readonly string[];
}

/**
 * The first copy of `key`, in the storage locations' order, whose SHA-256 and size are `expected`:
 * each candidate is hashed streaming, then read from by ranges, never held in memory. With one
 * location its failure is the caller's (`mismatch` describes a wrong copy); with several, a copy
 * that is missing, unreadable or wrong is a warning as long as a later location has a good one.
 */
export async function locateVerifiedCopy(
  store: ObjectStore,
  key: string,
  expected: { readonly sha256: string; readonly size: number },
  mismatch: (actual: { sha256: string; size: number }) => string,
): Promise<ArchiveCopy> {
  const copies = copiesOf(store);
  const problems: { name: string; error: unknown }[] = [];
  for (const copy of copies) {
    let actual: { sha256: string; size: number };
    try {
      actual = await hashObject(copy.store, key);
    } catch (err) {
      if (err instanceof UsageError) throw err;
      problems.push({ name: copy.name, error: err });
      continue;
    }
    if (actual.sha256 === expected.sha256 && actual.size === expected.size) {
      // A copy in an offline class is not damaged: it needs a rehydration, not a repair.
      const warnings = problems.map(
        (p) =>
          `storage location ${p.name}: ${(p.error as Error).message}; read ${key} from ${copy.name} instead${p.error instanceof ColdObjectError ? '' : ' (repair: `tresor storage sync --verify-content`)'}`,
      );
      return { store: copy.store, warnings };
    }
    problems.push({ name: copy.name, error: new IntegrityError(mismatch(actual)) });
  }
  if (copies.length === 1) throw problems[0]!.error;
  if (problems.every((p) => p.error instanceof NotFoundError)) throw problems[0]!.error;
  throw new IntegrityError(
    `no storage location holds a copy of ${key} matching its manifest: ${problems.map((p) => `${p.name}: ${(p.error as Error).message}`).join('; ')}`,
    { cause: problems[0]!.error },
  );
}
