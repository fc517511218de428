import { pbkdf2, randomBytes, scrypt } from 'node:crypto';
import { promisify } from 'node:util';
import { hashRaw } from '@node-rs/argon2';
import type { Algorithm } from '@node-rs/argon2';
import { IntegrityError, UsageError } from '@tresor/errors';
import type { KdfAlgorithm, KdfParams } from './wrapped-key.js';

/** Length of a derived key-encryption key. */
export const KEK_SIZE = 32;
/** Length of a fresh KDF salt. */
export const KDF_SALT_SIZE = 16;

/** Defaults for new argon2id wraps (RFC 9106's second recommendation, with 3 passes). */
export const ARGON2ID_DEFAULTS = { memoryKiB: 64 * 1024, iterations: 3, parallelism: 1 } as const;
/** Defaults for new scrypt wraps. */
export const SCRYPT_DEFAULTS = { N: 2 ** 17, r: 8, p: 1 } as const;
/** Defaults for new PBKDF2-HMAC-SHA256 wraps (OWASP 2023: 600,000 iterations). */
export const PBKDF2_DEFAULTS = { iterations: 600_000 } as const;

/**
 * Bounds enforced on every derivation, including unwraps: the minimums stop a tampered header
 * from downgrading the KDF, the maximums stop it from exhausting memory or time.
 */
export const KDF_LIMITS = {
  saltBytes: { min: 16, max: 64 },
  argon2id: {
    memoryKiB: { min: 19 * 1024, max: 4 * 1024 * 1024 },
    iterations: { min: 2, max: 64 },
    parallelism: { min: 1, max: 64 },
  },
  scrypt: {
    N: { min: 2 ** 15, max: 2 ** 22 },
    r: { min: 8, max: 32 },
    p: { min: 1, max: 16 },
    maxMemoryBytes: 4 * 1024 ** 3,
  },
  'pbkdf2-sha256': {
    iterations: { min: 600_000, max: 10_000_000 },
  },
} as const;

// @node-rs/argon2 declares Algorithm as a const enum, which isolatedModules cannot read.
const ARGON2ID = 2 as Algorithm;
const scryptAsync = promisify(scrypt) as (
  password: Buffer,
  salt: Buffer,
  keylen: number,
  options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;
const pbkdf2Async = promisify(pbkdf2);

/** Fresh parameters (random salt) for a new passphrase KEK. */
export function newKdfParams(alg: KdfAlgorithm = 'argon2id'): KdfParams {
  const salt = randomBytes(KDF_SALT_SIZE).toString('base64');
  if (alg === 'argon2id') return { alg, ...ARGON2ID_DEFAULTS, salt };
  if (alg === 'scrypt') return { alg, ...SCRYPT_DEFAULTS, salt };
  if (alg === 'pbkdf2-sha256') return { alg, ...PBKDF2_DEFAULTS, salt };
  throw new UsageError(`unknown key derivation function '${String(alg)}' (choose argon2id, scrypt or pbkdf2-sha256)`);
}

/** Derives a 32-byte KEK from a passphrase (NFC-normalised, UTF-8) after checking the parameters. */
export async function deriveKek(passphrase: string, params: KdfParams): Promise<Buffer> {
  if (typeof passphrase !== 'string' || passphrase.length === 0) throw new UsageError('passphrase is empty');
  checkKdfParams(params);
  const secret = Buffer.from(passphrase.normalize('NFC'), 'utf8');
  const salt = Buffer.from(params.salt, 'base64');
  try {
    if (params.alg === 'argon2id') {
      return await hashRaw(secret, {
        algorithm: ARGON2ID,
        memoryCost: params.memoryKiB,
        timeCost: params.iterations,
        parallelism: params.parallelism,
        salt,
        outputLen: KEK_SIZE,
      });
    }
    if (params.alg === 'pbkdf2-sha256') return await pbkdf2Async(secret, salt, params.iterations, KEK_SIZE, 'sha256');
    const { N, r, p } = params;
    // OpenSSL needs 128·r·(N + p + 2) bytes; leave headroom above that.
    return await scryptAsync(secret, salt, KEK_SIZE, {
      N,
      r,
      p,
      maxmem: 128 * r * (N + p + 2) + 1024 * 1024,
    });
  } finally {
    secret.fill(0);
  }
}

/** IntegrityError unless `params` lie within KDF_LIMITS (too weak, or absurdly expensive). */
export function checkKdfParams(params: KdfParams): void {
  const saltBytes = Buffer.from(params.salt, 'base64').length;
  within('salt length', saltBytes, KDF_LIMITS.saltBytes, 'bytes');
  if (params.alg === 'argon2id') {
    const limits = KDF_LIMITS.argon2id;
    within('argon2id memory', params.memoryKiB, limits.memoryKiB, 'KiB');
    within('argon2id iterations', params.iterations, limits.iterations);
    within('argon2id parallelism', params.parallelism, limits.parallelism);
    return;
  }
  if (params.alg === 'scrypt') {
    const limits = KDF_LIMITS.scrypt;
    within('scrypt N', params.N, limits.N);
    if (!Number.isInteger(Math.log2(params.N)))
      throw new IntegrityError(`scrypt N ${params.N} is not a power of two`);
    within('scrypt r', params.r, limits.r);
    within('scrypt p', params.p, limits.p);
    if (128 * params.N * params.r > limits.maxMemoryBytes) {
      throw new IntegrityError(
        `scrypt N ${params.N} with r ${params.r} needs more than ${limits.maxMemoryBytes} bytes of memory`,
      );
    }
    return;
  }
  if (params.alg === 'pbkdf2-sha256') {
    within('pbkdf2-sha256 iterations', params.iterations, KDF_LIMITS['pbkdf2-sha256'].iterations);
    return;
  }
  throw new IntegrityError(`unknown key derivation function '${String((params as { alg: unknown }).alg)}'`);
}

function within(what: string, value: number, range: { min: number; max: number }, unit = ''): void {
  const suffix = unit ? ` ${unit}` : '';
  if (!Number.isSafeInteger(value) || value < range.min) {
    throw new IntegrityError(
      `${what} ${value}${suffix} is below the minimum of ${range.min}${suffix}; refusing weak KDF parameters`,
    );
  }
  if (value > range.max) {
    throw new IntegrityError(`${what} ${value}${suffix} is above the maximum of ${range.max}${suffix}`);
  }
}
