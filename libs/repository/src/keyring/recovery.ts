import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { z } from 'zod';
import { X25519PrivateKek, x25519KekId } from '@tresor/crypto';
import { IntegrityError, UsageError } from '@tresor/errors';
import type { Slot } from './kek-versions.js';
import type { KekVersion } from './kek-versions.js';

export const SHARE_FORMAT = 'tresor-recovery-share/v1';
const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

/** One custodian's share of the recovery key, as written to their file (JSON; optionally age-encrypted). */
export const shareFileSchema = z.strictObject({
  format: z.literal(SHARE_FORMAT),
  repositoryId: z.string(),
  recoveryKekId: z.string(),
  custodian: z.string().min(1),
  threshold: z.number().int().min(2).max(255),
  shares: z.number().int().min(2).max(255),
  createdAt: z.string(),
  /** Base64 share from shamir-secret-sharing (secret length + 1 bytes). */
  share: z.base64(),
});
export type ShareFile = z.infer<typeof shareFileSchema>;

export interface SplitOptions {
  readonly repositoryId: string;
  readonly shares: number;
  readonly threshold: number;
  readonly custodians: readonly string[];
}

/**
 * A fresh X25519 recovery key split M-of-N (audited shamir-secret-sharing). The private key
 * exists only in memory here and in the shares; the slot (public key and a SHA-256 per share, to
 * name a corrupted share later) goes into a signed KEK version.
 */
export async function splitRecoveryKey(options: SplitOptions): Promise<{ slot: Slot; files: ShareFile[] }> {
  const { shares, threshold, custodians } = options;
  if (!Number.isInteger(shares) || shares < 2 || shares > 255) throw new UsageError('--shares must be a whole number from 2 to 255');
  if (!Number.isInteger(threshold) || threshold < 2 || threshold > shares)
    throw new UsageError(`--threshold must be a whole number from 2 to the number of shares (${shares})`);
  if (custodians.length !== shares) throw new UsageError(`name one --custodian per share: ${shares} shares, ${custodians.length} custodians`);
  if (new Set(custodians).size !== custodians.length) throw new UsageError('custodian names must be distinct');
  for (const name of custodians)
    if (!/^[A-Za-z0-9._@-]{1,64}$/.test(name)) throw new UsageError(`custodian name '${name}' must be 1-64 characters of [A-Za-z0-9._@-]`);

  const { publicKey, privateKey } = generateKeyPairSync('x25519');
  // The library wants plain Uint8Arrays (not Buffer subclasses).
  const secret = new Uint8Array(Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url'));
  const { split } = await import('shamir-secret-sharing');
  const parts = await split(secret, shares, threshold);
  secret.fill(0);
  const recoveryKekId = x25519KekId(publicKey);
  const createdAt = new Date().toISOString();
  const files = parts.map((part, i) => ({
    format: SHARE_FORMAT,
    repositoryId: options.repositoryId,
    recoveryKekId,
    custodian: custodians[i]!,
    threshold,
    shares,
    createdAt,
    share: Buffer.from(part).toString('base64'),
  })) satisfies ShareFile[];
  const slot: Slot = {
    type: 'x25519',
    kekId: recoveryKekId,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
    recovery: { threshold, shares: files.map((f) => ({ custodian: f.custodian, sha256: shareDigest(f.share) })) },
  };
  return { slot, files };
}

/** Serialises a share file, encrypted to an age recipient (`age1…`) when one is given. */
export async function encodeShareFile(file: ShareFile, ageRecipient?: string): Promise<Buffer> {
  const text = `${JSON.stringify(file, null, 2)}\n`;
  if (!ageRecipient) return Buffer.from(text, 'utf8');
  const { Encrypter } = await import('age-encryption');
  const encrypter = new Encrypter();
  try {
    encrypter.addRecipient(ageRecipient);
  } catch (err) {
    throw new UsageError(`'${ageRecipient}' is not an age recipient (age1…)`, { cause: err });
  }
  return Buffer.from(await encrypter.encrypt(text));
}

/** Reads a share file (plain JSON, or age-encrypted and opened with one of `ageIdentities`). */
export async function decodeShareFile(bytes: Buffer, name: string, ageIdentities: readonly string[] = []): Promise<ShareFile> {
  let text: string;
  if (bytes.subarray(0, 21).toString('latin1') === 'age-encryption.org/v1') {
    if (ageIdentities.length === 0) throw new UsageError(`share ${name} is age-encrypted: pass the custodian's identity with --age-identity FILE`);
    const { Decrypter } = await import('age-encryption');
    const decrypter = new Decrypter();
    for (const id of ageIdentities) decrypter.addIdentity(id);
    try {
      text = await decrypter.decrypt(bytes, 'text');
    } catch (err) {
      throw new UsageError(`share ${name} cannot be decrypted with the age identities given`, { cause: err });
    }
  } else text = bytes.toString('utf8');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new IntegrityError(`share ${name} is not a Tresor recovery share (not JSON)`);
  }
  const parsed = shareFileSchema.safeParse(raw);
  if (!parsed.success) throw new IntegrityError(`share ${name} is not a valid Tresor recovery share: ${parsed.error.issues[0]!.path.join('.')}: ${parsed.error.issues[0]!.message}`);
  return parsed.data;
}

/**
 * Combines shares into the recovery key after checking each against the digest recorded in the
 * signed KEK version (a corrupted share is named), their number against the threshold, and the
 * result against the recorded public key.
 */
export async function recoverRecoveryKey(
  shares: readonly { name: string; file: ShareFile }[],
  versions: readonly KekVersion[],
  repositoryId: string,
): Promise<X25519PrivateKek> {
  if (shares.length === 0) throw new UsageError('no shares given: pass --share FILE once per custodian');
  const kekId = shares[0]!.file.recoveryKekId;
  const slot = versions.flatMap((v) => v.slots).find((s) => s.type === 'x25519' && s.kekId === kekId && s.recovery);
  if (!slot || slot.type !== 'x25519' || !slot.recovery)
    throw new IntegrityError(`share ${shares[0]!.name} belongs to recovery key ${kekId}, which no KEK version of this repository records`);
  const byCustodian = new Map<string, { name: string; file: ShareFile }>();
  for (const s of shares) {
    if (s.file.repositoryId !== repositoryId) throw new IntegrityError(`share ${s.name} belongs to repository ${s.file.repositoryId}, not ${repositoryId}`);
    if (s.file.recoveryKekId !== kekId) throw new IntegrityError(`share ${s.name} belongs to another recovery key (${s.file.recoveryKekId}) than ${kekId}`);
    const recorded = slot.recovery.shares.find((r) => r.custodian === s.file.custodian);
    if (!recorded) throw new IntegrityError(`share ${s.name}: custodian '${s.file.custodian}' was not given a share of ${kekId}`);
    if (recorded.sha256 !== shareDigest(s.file.share))
      throw new IntegrityError(`share ${s.name} of custodian '${s.file.custodian}' is corrupted: it does not match the SHA-256 recorded when it was issued`);
    byCustodian.set(s.file.custodian, s);
  }
  const { threshold } = slot.recovery;
  if (byCustodian.size < threshold) {
    throw new UsageError(
      `the recovery key needs ${threshold} distinct shares; ${byCustodian.size} given (${[...byCustodian.keys()].join(', ')})`,
    );
  }
  const { combine } = await import('shamir-secret-sharing');
  const secret = Buffer.from(
    await combine([...byCustodian.values()].map((s) => new Uint8Array(Buffer.from(s.file.share, 'base64')))),
  );
  const der = Buffer.concat([X25519_PKCS8_PREFIX, secret]);
  secret.fill(0);
  const privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  der.fill(0);
  if (x25519KekId(createPublicKey(privateKey)) !== kekId)
    throw new IntegrityError(`the shares given do not reconstruct recovery key ${kekId}`);
  return X25519PrivateKek.fromPem(privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
}

/** Hex SHA-256 of a share (recorded in the signed KEK version; reveals nothing about the share). */
export function shareDigest(shareB64: string): string {
  return createHash('sha256').update(Buffer.from(shareB64, 'base64')).digest('hex');
}
