import { canonicalJson, sign, verifySignature } from '@tresor/crypto';
import { IntegrityError } from '@tresor/errors';
import type { Repository } from '../repository.js';

/** Signature of a key-management object, as on manifests (docs/format.md §9, §14). */
export interface ObjectSignature {
  readonly alg: 'ed25519';
  readonly keyId: string;
  readonly value: string;
}

/** Signs the canonical JSON of `body` with the repository's signing key and returns the stored bytes. */
export async function signObject<T extends object>(repo: Repository, body: T): Promise<Buffer> {
  return signWith(await repo.signingKeyPem(), repo.descriptor.signing.keyId, body);
}

/** Signs the canonical JSON of `body` with an Ed25519 private key; the stored bytes. */
export function signWith<T extends object>(privateKeyPem: string, keyId: string, body: T): Buffer {
  const value = sign(privateKeyPem, canonicalJson(body));
  const signed = { ...body, signature: { alg: 'ed25519', keyId, value } };
  return Buffer.from(`${canonicalJson(signed)}\n`, 'utf8');
}

/** Parses a signed object and verifies it against the repository's signing key; IntegrityError naming `key` otherwise. */
export function verifySignedObject(repo: Repository, key: string, bytes: Buffer): Record<string, unknown> {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new IntegrityError(`${key} in ${repo.store.location} is not valid JSON`);
  }
  const { signature, ...body } = parsed as { signature?: ObjectSignature };
  if (
    !signature ||
    signature.alg !== 'ed25519' ||
    signature.keyId !== repo.descriptor.signing.keyId ||
    typeof signature.value !== 'string' ||
    !verifySignature(repo.descriptor.signing.publicKeyPem, canonicalJson(body), signature.value)
  ) {
    throw new IntegrityError(`${key} in ${repo.store.location} has no valid signature of this repository (tampered or foreign)`);
  }
  return body;
}
