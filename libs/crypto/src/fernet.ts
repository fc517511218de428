import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { IntegrityError, UsageError, WrongKeyError } from '@tresor/errors';

// Fernet spec (github.com/fernet/spec): version || timestamp || IV || AES-128-CBC ciphertext || HMAC-SHA256.
const VERSION = 0x80;
const KEY_SIZE = 32;
const IV_SIZE = 16;
const HMAC_SIZE = 32;
const HEADER_SIZE = 1 + 8 + IV_SIZE;

/** A fresh Fernet key: 32 random bytes, base64url with padding (as Python's Fernet.generate_key). */
export function generateFernetKey(): string {
  return randomBytes(KEY_SIZE).toString('base64url') + '=';
}

/**
 * Seals `plaintext` as a Fernet token readable by Python's `cryptography.fernet`. Composed from
 * node:crypto primitives (AES-128-CBC with PKCS#7 padding, HMAC-SHA256) exactly as the spec says.
 */
export function fernetEncrypt(key: string, plaintext: Buffer, now: Date = new Date()): string {
  const { signing, encryption } = splitKey(key);
  const iv = randomBytes(IV_SIZE);
  const header = Buffer.alloc(1 + 8);
  header[0] = VERSION;
  header.writeBigUInt64BE(BigInt(Math.floor(now.getTime() / 1000)), 1);
  const cipher = createCipheriv('aes-128-cbc', encryption, iv);
  const body = Buffer.concat([header, iv, cipher.update(plaintext), cipher.final()]);
  const hmac = createHmac('sha256', signing).update(body).digest();
  return Buffer.concat([body, hmac]).toString('base64url').replace(/$/, pad);
}

/** Opens a Fernet token (no TTL check); WrongKeyError when the HMAC does not verify. */
export function fernetDecrypt(key: string, token: string): Buffer {
  const { signing, encryption } = splitKey(key);
  const bytes = Buffer.from(token.trim(), 'base64url');
  if (bytes.length < HEADER_SIZE + 16 + HMAC_SIZE || bytes[0] !== VERSION || (bytes.length - HEADER_SIZE - HMAC_SIZE) % 16 !== 0)
    throw new IntegrityError('not a Fernet token (bad version or length)');
  const body = bytes.subarray(0, bytes.length - HMAC_SIZE);
  const expected = createHmac('sha256', signing).update(body).digest();
  if (!timingSafeEqual(expected, bytes.subarray(bytes.length - HMAC_SIZE))) throw new WrongKeyError('the Fernet key does not match this token (or the token was modified)');
  const decipher = createDecipheriv('aes-128-cbc', encryption, body.subarray(9, HEADER_SIZE));
  return Buffer.concat([decipher.update(body.subarray(HEADER_SIZE)), decipher.final()]);
}

function splitKey(key: string): { signing: Buffer; encryption: Buffer } {
  const raw = Buffer.from(key.trim(), 'base64url');
  if (raw.length !== KEY_SIZE) throw new UsageError(`a Fernet key is ${KEY_SIZE} bytes in URL-safe base64 (44 characters); this one is ${raw.length} bytes`);
  return { signing: raw.subarray(0, 16), encryption: raw.subarray(16) };
}

// base64url without padding -> with padding, as the spec's tokens are written.
function pad(_: string, offset: number, whole: string): string {
  return '='.repeat((4 - (whole.length % 4)) % 4);
}
