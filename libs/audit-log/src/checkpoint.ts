import type { AuditCheckpoint } from '@tresor/contracts';
import { canonicalJson, keyFingerprint, sign, verifySignature } from '@tresor/crypto';

/** The Ed25519 key that signs checkpoints. */
export interface CheckpointSigner {
  readonly privateKeyPem: string;
  readonly publicKeyPem: string;
}

/** Public keys a verifier trusts, by key id (`keyFingerprint`). */
export type TrustedKeys = ReadonlyMap<string, string>;

/** Trusted keys from public-key PEMs. */
export function trustedKeys(publicKeyPems: readonly string[]): TrustedKeys {
  return new Map(publicKeyPems.map((pem) => [keyFingerprint(pem), pem]));
}

/** The bytes a checkpoint signature covers. */
export function checkpointPayload(cp: Pick<AuditCheckpoint, 'seq' | 'hash' | 'time' | 'keyId'>): string {
  return canonicalJson({ seq: cp.seq, hash: cp.hash, time: cp.time, keyId: cp.keyId });
}

/** A checkpoint stating that entry `seq` has hash `hash`, signed now. */
export function signCheckpoint(signer: CheckpointSigner, seq: number, hash: string, time: Date): AuditCheckpoint {
  const unsigned = { seq, hash, time: time.toISOString(), keyId: keyFingerprint(signer.publicKeyPem) };
  return { ...unsigned, signature: sign(signer.privateKeyPem, checkpointPayload(unsigned)) };
}

/** Why a checkpoint's signature is not acceptable, or undefined when it is. */
export function checkpointSignatureProblem(cp: AuditCheckpoint, keys: TrustedKeys): string | undefined {
  const pem = keys.get(cp.keyId);
  if (!pem) return `checkpoint at entry ${cp.seq} is signed by key ${cp.keyId}, which is not trusted`;
  if (!verifySignature(pem, checkpointPayload(cp), cp.signature)) return `checkpoint at entry ${cp.seq} has a bad signature (key ${cp.keyId})`;
  return undefined;
}
