import { generateIdentity, identityToRecipient } from 'age-encryption';
import { describe, expect, it } from 'vitest';
import { X25519PublicKek, generateDataKey } from '@tresor/crypto';
import { IntegrityError, UsageError } from '@tresor/errors';
import type { KekVersion } from './kek-versions.js';
import { decodeShareFile, encodeShareFile, recoverRecoveryKey, splitRecoveryKey } from './recovery.js';

const REPO = 'repo-under-test';
const CUSTODIANS = ['carla', 'colin', 'cora', 'dora', 'emil'];

async function setup() {
  const { slot, files } = await splitRecoveryKey({ repositoryId: REPO, shares: 5, threshold: 3, custodians: CUSTODIANS });
  const version: KekVersion = { formatVersion: 1, repositoryId: REPO, version: 2, createdAt: new Date().toISOString(), slots: [slot], state: 'active' };
  return { slot, files: files.map((file) => ({ name: `${file.custodian}.share.json`, file })), versions: [version] };
}

function combinations<T>(items: readonly T[], k: number): T[][] {
  if (k === 0) return [[]];
  return items.flatMap((item, i) => combinations(items.slice(i + 1), k - 1).map((rest) => [item, ...rest]));
}

describe('recovery key split 5/3', () => {
  it('any 3 of the 5 shares recover the key that opens what was wrapped to it', async () => {
    const { slot, files, versions } = await setup();
    expect(slot.type === 'x25519' && slot.recovery?.shares.map((s) => s.custodian)).toEqual(CUSTODIANS);
    const dek = generateDataKey();
    const wrapped = await X25519PublicKek.fromPem(slot.type === 'x25519' ? slot.publicKeyPem : '').wrap(dek);
    const triples = combinations(files, 3);
    expect(triples).toHaveLength(10);
    for (const triple of triples) {
      const key = await recoverRecoveryKey(triple, versions, REPO);
      expect((await key.unwrap(wrapped)).equals(dek)).toBe(true);
    }
    // More than the threshold works too.
    expect((await recoverRecoveryKey(files, versions, REPO)).kekId).toBe(slot.kekId);
  });

  it('any 2 shares fail with a message naming the threshold and who gave theirs', async () => {
    const { files, versions } = await setup();
    for (const pair of combinations(files, 2)) {
      const err = (await recoverRecoveryKey(pair, versions, REPO).catch((e: unknown) => e)) as Error;
      expect(err).toBeInstanceOf(UsageError);
      expect(err.message).toBe(`the recovery key needs 3 distinct shares; 2 given (${pair[0]!.file.custodian}, ${pair[1]!.file.custodian})`);
    }
    // The same share twice does not count twice.
    await expect(recoverRecoveryKey([files[0]!, files[0]!, files[1]!], versions, REPO)).rejects.toThrow(/needs 3 distinct shares; 2 given/);
  });

  it('names a corrupted share, a share of another key and a foreign repository', async () => {
    const { files, versions } = await setup();
    const bytes = Buffer.from(files[1]!.file.share, 'base64');
    bytes[5]! ^= 0x40;
    const corrupted = { name: 'colin.share.json', file: { ...files[1]!.file, share: bytes.toString('base64') } };
    const err = (await recoverRecoveryKey([files[0]!, corrupted, files[2]!], versions, REPO).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(IntegrityError);
    expect(err.message).toBe(
      "share colin.share.json of custodian 'colin' is corrupted: it does not match the SHA-256 recorded when it was issued",
    );
    const other = await setup();
    await expect(recoverRecoveryKey([files[0]!, other.files[1]!, files[2]!], versions, REPO)).rejects.toThrow(/another recovery key/);
    await expect(recoverRecoveryKey(files.slice(0, 3), versions, 'another-repo')).rejects.toThrow(/belongs to repository/);
  });

  it('writes a share encrypted to a custodian age recipient and reads it back with the identity', async () => {
    const { files } = await setup();
    const identity = await generateIdentity();
    const encrypted = await encodeShareFile(files[0]!.file, await identityToRecipient(identity));
    expect(encrypted.subarray(0, 21).toString()).toBe('age-encryption.org/v1');
    expect(encrypted.includes(Buffer.from(files[0]!.file.share))).toBe(false);
    await expect(decodeShareFile(encrypted, 'carla.share.age')).rejects.toThrow(/--age-identity/);
    expect(await decodeShareFile(encrypted, 'carla.share.age', [identity])).toEqual(files[0]!.file);
    const stranger = await generateIdentity();
    await expect(decodeShareFile(encrypted, 'carla.share.age', [stranger])).rejects.toThrow(/cannot be decrypted/);
  });

  it('refuses bad split parameters', async () => {
    await expect(splitRecoveryKey({ repositoryId: REPO, shares: 5, threshold: 6, custodians: CUSTODIANS })).rejects.toThrow(/--threshold/);
    await expect(splitRecoveryKey({ repositoryId: REPO, shares: 5, threshold: 3, custodians: CUSTODIANS.slice(0, 4) })).rejects.toThrow(/one --custodian per share/);
    await expect(splitRecoveryKey({ repositoryId: REPO, shares: 2, threshold: 2, custodians: ['a', 'a'] })).rejects.toThrow(/distinct/);
  });
});
