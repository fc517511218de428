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

/** PBKDF2-HMAC-SHA256 parameters (for FIPS-minded users; at least 600,000 iterations). */
export const pbkdf2ParamsSchema = z.strictObject({
  alg: z.literal('pbkdf2-sha256'),
  iterations: z.number().int().positive(),
  /** Base64 salt. */
  salt: base64,
});

/** Parameters of a passphrase-based KEK derivation. */
export const kdfParamsSchema = z.discriminatedUnion('alg', [argon2idParamsSchema, scryptParamsSchema, pbkdf2ParamsSchema]);
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

/** A data key sealed to an X25519 public key: ephemeral ECDH, HKDF-SHA256, AES-256-GCM. */
export const x25519WrapSchema = z.strictObject({
  type: z.literal('x25519'),
  kekId: z.string().min(1).max(256),
  /** Base64 raw 32-byte ephemeral public key. */
  ephemeralPublicKey: base64,
  /** Base64 12-byte GCM nonce. */
  nonce: base64,
  /** Base64 ciphertext || 16-byte tag. */
  ciphertext: base64,
});

/** A data key sealed with AES-256-GCM by an AES key that never leaves a PKCS#11 token. */
export const pkcs11WrapSchema = z.strictObject({
  type: z.literal('pkcs11-aes-gcm'),
  kekId: z.string().min(1).max(256),
  /** CKA_LABEL of the token that holds the key. */
  tokenLabel: z.string().min(1).max(32),
  /** CKA_LABEL of the AES key on the token. */
  keyLabel: z.string().min(1).max(128),
  /** Base64 12-byte GCM nonce. */
  nonce: base64,
  /** Base64 ciphertext || 16-byte tag. */
  ciphertext: base64,
});

/** A data key encrypted by AWS KMS (symmetric key, with an encryption context binding the kekId). */
export const awsKmsWrapSchema = z.strictObject({
  type: z.literal('aws-kms'),
  kekId: z.string().min(1).max(256),
  /** Key ARN (or id) as KMS reported it when encrypting. */
  keyId: z.string().min(1).max(2048),
  /** Base64 KMS ciphertext blob. */
  ciphertext: base64,
});

/** A data key sealed by an RSA key in Azure Key Vault / Managed HSM (wrapKey, RSA-OAEP-256). */
export const azureKeyVaultWrapSchema = z.strictObject({
  type: z.literal('azure-key-vault'),
  kekId: z.string().min(1).max(256),
  /** Versioned key URL that sealed it (unwrap must use that version). */
  keyUrl: z.string().min(1).max(2048),
  algorithm: z.literal('RSA-OAEP-256'),
  ciphertext: base64,
});

/** A data key encrypted by a Google Cloud KMS symmetric key, with the kekId as authenticated data. */
export const gcpKmsWrapSchema = z.strictObject({
  type: z.literal('gcp-kms'),
  kekId: z.string().min(1).max(256),
  /** CryptoKeyVersion name Cloud KMS reported when encrypting. */
  keyVersion: z.string().min(1).max(2048),
  ciphertext: base64,
});

/** Any wrapped data key; JSON-serialisable as it is. */
export const wrappedKeySchema = z.discriminatedUnion('type', [
  passphraseWrapSchema,
  rsaWrapSchema,
  x25519WrapSchema,
  pkcs11WrapSchema,
  awsKmsWrapSchema,
  azureKeyVaultWrapSchema,
  gcpKmsWrapSchema,
]);
export type WrappedKey = z.infer<typeof wrappedKeySchema>;
export type PassphraseWrap = z.infer<typeof passphraseWrapSchema>;
export type RsaWrap = z.infer<typeof rsaWrapSchema>;
export type X25519Wrap = z.infer<typeof x25519WrapSchema>;
export type Pkcs11Wrap = z.infer<typeof pkcs11WrapSchema>;
export type AwsKmsWrap = z.infer<typeof awsKmsWrapSchema>;
export type AzureKeyVaultWrap = z.infer<typeof azureKeyVaultWrapSchema>;
export type GcpKmsWrap = z.infer<typeof gcpKmsWrapSchema>;
