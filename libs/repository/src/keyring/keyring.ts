import { z } from 'zod';
import { wrappedKeySchema } from '@tresor/crypto';
import type { WrappedKey } from '@tresor/crypto';
import { IntegrityError } from '@tresor/errors';
import { readObject } from '../io.js';
import type { Repository } from '../repository.js';
import { signObject, verifySignedObject } from './signed-object.js';

export const KEYRING_PREFIX = 'keyrings/';
export const keyringKey = (backupId: string, sequence: number): string =>
  `${KEYRING_PREFIX}${backupId}/${String(sequence).padStart(8, '0')}.json`;

const keyringSchema = z.strictObject({
  formatVersion: z.literal(1),
  repositoryId: z.string(),
  backupId: z.string(),
  sequence: z.number().int().positive(),
  kekVersion: z.number().int().positive(),
  createdAt: z.string(),
  keys: z.array(wrappedKeySchema).min(1).max(64),
});
export type Keyring = z.infer<typeof keyringSchema>;

/** The keyrings of a backup, newest first; each signature and field is checked. */
export async function readKeyrings(repo: Repository, backupId: string): Promise<Keyring[]> {
  const rings: Keyring[] = [];
  for await (const info of repo.store.list(`${KEYRING_PREFIX}${backupId}/`)) {
    const m = /\/(\d{8})\.json$/.exec(info.key);
    if (!m || info.key !== keyringKey(backupId, Number(m[1]))) continue;
    const body = verifySignedObject(repo, info.key, await readObject(repo.store, info.key));
    const parsed = keyringSchema.safeParse(body);
    if (
      !parsed.success ||
      parsed.data.backupId !== backupId ||
      parsed.data.sequence !== Number(m[1]) ||
      parsed.data.repositoryId !== repo.descriptor.repositoryId
    ) {
      throw new IntegrityError(`${info.key} is not a valid keyring of backup ${backupId}`);
    }
    rings.push(parsed.data);
  }
  return rings.sort((a, b) => b.sequence - a.sequence);
}

/** Writes the next keyring of a backup (a new object: WORM-locked stores never need an overwrite). */
export async function writeKeyring(
  repo: Repository,
  backupId: string,
  kekVersion: number,
  keys: readonly WrappedKey[],
): Promise<Keyring> {
  const newest = (await readKeyrings(repo, backupId))[0];
  const ring: Keyring = {
    formatVersion: 1,
    repositoryId: repo.descriptor.repositoryId,
    backupId,
    sequence: (newest?.sequence ?? 0) + 1,
    kekVersion,
    createdAt: new Date().toISOString(),
    keys: [...keys],
  };
  await repo.store.put(keyringKey(backupId, ring.sequence), await signObject(repo, ring));
  return ring;
}
