import type * as KmsSdk from '@aws-sdk/client-kms';
import type { KMSClient, KMSClientConfig } from '@aws-sdk/client-kms';
import { IntegrityError, IoError, NotFoundError, UsageError, WrongKeyError } from '@tresor/errors';
import { DATA_KEY_SIZE } from './data-key.js';
import type { KeyUnwrapper, KeyWrapper } from './key-wrapper.js';
import type { WrappedKey } from './wrapped-key.js';

/** Which KMS key to use and how to reach it. Credentials come from the AWS SDK's default chain. */
export interface AwsKmsKeyRef {
  /** Key ARN (preferred), key id or alias ARN. */
  readonly keyId: string;
  readonly region: string;
  /** Custom endpoint (VPC endpoint, FIPS endpoint, or a local emulator). */
  readonly endpoint?: string;
  /** Explicit credentials (tests); omitted in production, where the default provider chain applies. */
  readonly credentials?: KMSClientConfig['credentials'];
}

/**
 * A KEK that is a symmetric AWS KMS key: data keys are encrypted by KMS (Encrypt/Decrypt API),
 * with an encryption context that binds the Tresor kekId, so a ciphertext cannot be replayed as
 * another wrap. The KEK never leaves KMS; access is governed by the key policy and IAM, and every
 * use appears in CloudTrail.
 */
export class AwsKmsKek implements KeyWrapper, KeyUnwrapper {
  readonly kekId: string;
  // The SDK costs ~0.5 s and ~20 MiB to load: only commands that use a KMS key pay for it.
  private client?: KMSClient;
  private sdk?: typeof KmsSdk;

  constructor(private readonly ref: AwsKmsKeyRef) {
    if (!ref.keyId) throw new UsageError('AWS KMS key id is empty');
    this.kekId = awsKmsKekId(ref.keyId);
  }

  private async kms(): Promise<{ client: KMSClient; sdk: typeof KmsSdk }> {
    this.sdk ??= await import('@aws-sdk/client-kms');
    this.client ??= new this.sdk.KMSClient({
      region: this.ref.region,
      ...(this.ref.endpoint ? { endpoint: this.ref.endpoint } : {}),
      ...(this.ref.credentials ? { credentials: this.ref.credentials } : {}),
      maxAttempts: 3,
    });
    return { client: this.client, sdk: this.sdk };
  }

  async wrap(dek: Buffer): Promise<WrappedKey> {
    if (!Buffer.isBuffer(dek) || dek.length !== DATA_KEY_SIZE) throw new UsageError(`data key must be ${DATA_KEY_SIZE} bytes`);
    try {
      const { client, sdk } = await this.kms();
      const out = await client.send(
        new sdk.EncryptCommand({ KeyId: this.ref.keyId, Plaintext: dek, EncryptionContext: awsKmsContext(this.kekId) }),
      );
      return {
        type: 'aws-kms',
        kekId: this.kekId,
        keyId: out.KeyId ?? this.ref.keyId,
        ciphertext: Buffer.from(out.CiphertextBlob!).toString('base64'),
      };
    } catch (err) {
      throw mapKmsError(err, this.ref.keyId);
    }
  }

  canUnwrap(wrapped: WrappedKey): boolean {
    return wrapped.type === 'aws-kms' && wrapped.kekId === this.kekId;
  }

  async unwrap(wrapped: WrappedKey): Promise<Buffer> {
    if (wrapped.type !== 'aws-kms') throw new WrongKeyError(`key ${wrapped.kekId} is not wrapped by AWS KMS`);
    if (wrapped.kekId !== this.kekId)
      throw new WrongKeyError(`wrapped key ${wrapped.kekId} was sealed by another KMS key than ${this.kekId}`);
    let out;
    try {
      const { client, sdk } = await this.kms();
      out = await client.send(
        new sdk.DecryptCommand({
          KeyId: this.ref.keyId,
          CiphertextBlob: Buffer.from(wrapped.ciphertext, 'base64'),
          EncryptionContext: awsKmsContext(wrapped.kekId),
        }),
      );
    } catch (err) {
      throw mapKmsError(err, this.ref.keyId);
    }
    const dek = Buffer.from(out.Plaintext ?? new Uint8Array());
    if (dek.length !== DATA_KEY_SIZE) throw new IntegrityError(`wrapped key ${wrapped.kekId} does not hold a ${DATA_KEY_SIZE}-byte data key`);
    return dek;
  }

  /**
   * Crypto-shredding: disables the key at once (no Decrypt from now on) and schedules its deletion
   * after KMS's minimum waiting period of 7 days. False when it was already pending deletion or gone.
   */
  async destroy(pendingWindowInDays = 7): Promise<boolean> {
    try {
      const { client, sdk } = await this.kms();
      await client.send(new sdk.DisableKeyCommand({ KeyId: this.ref.keyId }));
      await client.send(new sdk.ScheduleKeyDeletionCommand({ KeyId: this.ref.keyId, PendingWindowInDays: pendingWindowInDays }));
      return true;
    } catch (err) {
      const name = (err as { name?: string }).name ?? '';
      if (name === 'NotFoundException' || name === 'KMSInvalidStateException') return false;
      throw mapKmsError(err, this.ref.keyId);
    }
  }

  close(): void {
    this.client?.destroy();
  }
}

/**
 * Key id of a KMS KEK: `aws-kms:` + the key id as configured (an ARN names region, account and key).
 * Kept verbatim so an operator sees which key a wrap needs.
 */
export function awsKmsKekId(keyId: string): string {
  return `aws-kms:${keyId}`.slice(0, 256);
}

/** Encryption context of every Tresor KMS wrap (authenticated by KMS, logged in CloudTrail). */
export function awsKmsContext(kekId: string): Record<string, string> {
  return { 'tresor:purpose': 'key-wrap/v1', 'tresor:kekId': kekId };
}

function mapKmsError(err: unknown, keyId: string): Error {
  const name = (err as { name?: string }).name ?? '';
  const message = err instanceof Error ? err.message : String(err);
  if (name === 'NotFoundException') return new NotFoundError(`AWS KMS key ${keyId} does not exist`, { cause: err });
  if (name === 'InvalidCiphertextException' || name === 'IncorrectKeyException')
    return new WrongKeyError(`AWS KMS key ${keyId} cannot open this wrapped key (wrong key, context or corrupted wrap)`, { cause: err });
  if (name === 'DisabledException' || name === 'KMSInvalidStateException')
    return new WrongKeyError(`AWS KMS key ${keyId} is disabled or pending deletion`, { cause: err });
  if (name === 'AccessDeniedException') return new WrongKeyError(`access to AWS KMS key ${keyId} is denied: ${message}`, { cause: err });
  return new IoError(`AWS KMS (${keyId}): ${name || 'error'}: ${message}`, { cause: err });
}
