import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign as edSign,
  verify,
} from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { UsageError } from '@tresor/errors';

const FINGERPRINT_HEX_CHARS = 32;

/** An Ed25519 key pair as PEM: SPKI public key, PKCS#8 private key. */
export interface SigningKeyPair {
  readonly publicKeyPem: string;
  readonly privateKeyPem: string;
}

/** A fresh Ed25519 key pair. */
export function generateSigningKeyPair(): SigningKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519', {
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { publicKeyPem: publicKey, privateKeyPem: privateKey };
}

/** Ed25519 signature of `data`, base64. */
export function sign(privateKeyPem: string, data: Buffer | string): string {
  const key = loadKey(() => createPrivateKey({ key: privateKeyPem, format: 'pem' }), 'private');
  return edSign(null, toBytes(data), key).toString('base64');
}

/** True when `signatureB64` is a valid Ed25519 signature of `data` by `publicKeyPem`. */
export function verifySignature(publicKeyPem: string, data: Buffer | string, signatureB64: string): boolean {
  const key = loadKey(() => createPublicKey({ key: publicKeyPem, format: 'pem' }), 'public');
  const signature = Buffer.from(signatureB64, 'base64');
  // Non-canonical base64 would let two strings stand for one signature.
  if (signature.toString('base64') !== signatureB64) return false;
  try {
    return verify(null, toBytes(data), key, signature);
  } catch {
    return false;
  }
}

/** Stable id of a signing key: `ed25519:` + the first 32 hex chars of SHA-256 over its SPKI DER. */
export function keyFingerprint(publicKeyPem: string): string {
  const key = loadKey(() => createPublicKey({ key: publicKeyPem, format: 'pem' }), 'public');
  const der = key.export({ type: 'spki', format: 'der' });
  return `ed25519:${createHash('sha256').update(der).digest('hex').slice(0, FINGERPRINT_HEX_CHARS)}`;
}

function loadKey(load: () => KeyObject, kind: 'public' | 'private'): KeyObject {
  let key: KeyObject;
  try {
    key = load();
  } catch (err) {
    throw new UsageError(`signing ${kind} key is not a valid PEM key`, { cause: err });
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new UsageError(`signing ${kind} key is ${key.asymmetricKeyType ?? 'unknown'}, not Ed25519`);
  }
  return key;
}

function toBytes(data: Buffer | string): Buffer {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}
