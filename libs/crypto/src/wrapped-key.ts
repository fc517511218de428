import { z } from 'zod';

const base64 = z.base64();

/** argon2id parameters, stored with every wrap so the KEK can be re-derived. */
export const argon2idParamsSchema = z.strictObject({
  alg: z.literal('argon2id'),
  /** Memory in KiB. */
  memoryKiB: z.number().int().positive(),
  iterations: z.number().int().positive(),
  parallelism: z.number().int().positive(),
  /** Base64 salt. */
  salt: base64,
});

/** scrypt parameters, stored with every wrap so the KEK can be re-derived. */
export const scryptParamsSchema = z.strictObject({
  alg: z.literal('scrypt'),
  N: z.number().int().positive(),
  r: z.number().int().positive(),
  p: z.number().int().positive(),
  /** Base64 salt. */
  salt: base64,
});

/** Parameters of a passphrase-based KEK derivation. */
export const kdfParamsSchema = z.discriminatedUnion('alg', [argon2idParamsSchema, scryptParamsSchema]);
export type KdfParams = z.infer<typeof kdfParamsSchema>;
export type KdfAlgorithm = KdfParams['alg'];

/** A data key sealed with AES-256-GCM under a passphrase-derived KEK. */
export const passphraseWrapSchema = z.strictObject({
  type: z.literal('passphrase'),
  kekId: z.string().min(1).max(256),
  kdf: kdfParamsSchema,
  /** Base64 12-byte GCM nonce. */
  nonce: base64,
  /** Base64 ciphertext || 16-byte tag. */
  ciphertext: base64,
});

/** A data key sealed with RSA-OAEP (SHA-256) to a public key. */
export const rsaWrapSchema = z.strictObject({
  type: z.literal('rsa-oaep-sha256'),
  kekId: z.string().min(1).max(256),
  /** Base64 OAEP ciphertext, as long as the modulus. */
  ciphertext: base64,
});

/** Any wrapped data key; JSON-serialisable as it is. */
export const wrappedKeySchema = z.discriminatedUnion('type', [passphraseWrapSchema, rsaWrapSchema]);
export type WrappedKey = z.infer<typeof wrappedKeySchema>;
export type PassphraseWrap = z.infer<typeof passphraseWrapSchema>;
export type RsaWrap = z.infer<typeof rsaWrapSchema>;
