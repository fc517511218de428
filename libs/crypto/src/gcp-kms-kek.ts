import { IntegrityError, IoError, NotFoundError, UsageError, WrongKeyError } from '@tresor/errors';
import { DATA_KEY_SIZE } from './data-key.js';
import type { KeyUnwrapper, KeyWrapper } from './key-wrapper.js';
import type { WrappedKey } from './wrapped-key.js';

/** The two Cloud KMS calls Tresor uses (the shape of `KeyManagementServiceClient` in `@google-cloud/kms`). */
export interface GcpKmsPort {
  /** projects.locations.keyRings.cryptoKeys.encrypt: `name` of the CryptoKeyVersion used comes back. */
  encrypt(request: { name: string; plaintext: Buffer; additionalAuthenticatedData: Buffer }): Promise<[{ name?: string | null; ciphertext?: Uint8Array | string | null }, ...unknown[]]>;
  /** projects.locations.keyRings.cryptoKeys.decrypt (the version is inside the ciphertext). */
  decrypt(request: { name: string; ciphertext: Buffer; additionalAuthenticatedData: Buffer }): Promise<[{ plaintext?: Uint8Array | string | null }, ...unknown[]]>;
  /** projects.locations.keyRings.cryptoKeys.cryptoKeyVersions.list (for crypto-shredding). */
  listCryptoKeyVersions?(request: { parent: string }): Promise<[{ name?: string | null; state?: string | number | null }[], ...unknown[]]>;
  /** cryptoKeyVersions.destroy: the version stops decrypting at once; its material is destroyed after the key's scheduled-destruction period. */
  destroyCryptoKeyVersion?(request: { name: string }): Promise<[{ name?: string | null; state?: string | number | null }, ...unknown[]]>;
  close?(): Promise<void>;
}

/** CryptoKeyVersion states that no longer decrypt (by enum name, or number as protobuf gives it). */
const GONE_STATES = new Set<string | number>(['DESTROYED', 'DESTROY_SCHEDULED', 3, 4]);

/**
 * The real client: `KeyManagementServiceClient` of `@google-cloud/kms`, with Application Default
 * Credentials. Loaded on first use by a computed name, so the workspace builds without the SDK.
 */
export async function gcpKmsSdkClient(): Promise<GcpKmsPort> {
  let kms: { KeyManagementServiceClient: new () => GcpKmsPort };
  try {
    const name = '@google-cloud/kms';
    kms = (await import(name)) as never;
  } catch (err) {
    throw new UsageError('Google Cloud KMS slots need the package @google-cloud/kms (npm install)', { cause: err });
  }
  return new kms.KeyManagementServiceClient();
}

/** Which Cloud KMS key. */
export interface GcpKmsKeyRef {
  /** projects/P/locations/L/keyRings/R/cryptoKeys/K (a symmetric ENCRYPT_DECRYPT key). */
  readonly keyName: string;
  /** Client (tests inject a fake; default: the Google Cloud SDK). */
  readonly client?: () => Promise<GcpKmsPort>;
}

const KEY_NAME = /^projects\/[a-z0-9-]+\/locations\/[a-z0-9-]+\/keyRings\/[A-Za-z0-9_-]+\/cryptoKeys\/[A-Za-z0-9_-]+$/;

/**
 * A KEK that is a symmetric Google Cloud KMS key: data keys are encrypted by Cloud KMS with
 * additional authenticated data that binds the Tresor kekId (like the AWS encryption context), so
 * a ciphertext cannot be replayed as another wrap. The key never leaves KMS (software, HSM or
 * external protection level, as configured there); IAM governs use and Cloud Audit Logs record it.
 */
export class GcpKmsKek implements KeyWrapper, KeyUnwrapper {
  readonly kekId: string;
  private client?: Promise<GcpKmsPort>;

  constructor(private readonly ref: GcpKmsKeyRef) {
    if (!KEY_NAME.test(ref.keyName)) throw new UsageError(`'${ref.keyName}' is not a Cloud KMS key name (projects/P/locations/L/keyRings/R/cryptoKeys/K)`);
    this.kekId = gcpKmsKekId(ref.keyName);
  }

  private kms(): Promise<GcpKmsPort> {
    if (!this.client) {
      this.client = (this.ref.client ?? gcpKmsSdkClient)();
      this.client.catch(() => (this.client = undefined));
    }
    return this.client;
  }

  async wrap(dek: Buffer): Promise<WrappedKey> {
    if (!Buffer.isBuffer(dek) || dek.length !== DATA_KEY_SIZE) throw new UsageError(`data key must be ${DATA_KEY_SIZE} bytes`);
    try {
      const [out] = await (await this.kms()).encrypt({ name: this.ref.keyName, plaintext: dek, additionalAuthenticatedData: gcpKmsAad(this.kekId) });
      if (!out.ciphertext) throw new IntegrityError(`Cloud KMS returned no ciphertext for ${this.ref.keyName}`);
      return {
        type: 'gcp-kms',
        kekId: this.kekId,
        keyVersion: out.name ?? this.ref.keyName,
        ciphertext: Buffer.from(out.ciphertext as Uint8Array).toString('base64'),
      };
    } catch (err) {
      throw mapGcpKmsError(err, this.ref.keyName);
    }
  }

  canUnwrap(wrapped: WrappedKey): boolean {
    return wrapped.type === 'gcp-kms' && wrapped.kekId === this.kekId;
  }

  async unwrap(wrapped: WrappedKey): Promise<Buffer> {
    if (wrapped.type !== 'gcp-kms') throw new WrongKeyError(`key ${wrapped.kekId} is not wrapped by Cloud KMS`);
    if (wrapped.kekId !== this.kekId) throw new WrongKeyError(`wrapped key ${wrapped.kekId} was sealed by another Cloud KMS key than ${this.kekId}`);
    let out;
    try {
      [out] = await (await this.kms()).decrypt({ name: this.ref.keyName, ciphertext: Buffer.from(wrapped.ciphertext, 'base64'), additionalAuthenticatedData: gcpKmsAad(wrapped.kekId) });
    } catch (err) {
      throw mapGcpKmsError(err, this.ref.keyName);
    }
    const dek = Buffer.from((out.plaintext ?? new Uint8Array()) as Uint8Array);
    if (dek.length !== DATA_KEY_SIZE) throw new IntegrityError(`wrapped key ${wrapped.kekId} does not hold a ${DATA_KEY_SIZE}-byte data key`);
    return dek;
  }

  /**
   * Crypto-shredding: schedules the destruction of every version of the key that is not already
   * destroyed (each refuses to decrypt from that moment). Returns the versions destroyed now;
   * an empty list means nothing was left to destroy.
   */
  async destroy(): Promise<string[]> {
    try {
      const kms = await this.kms();
      if (!kms.listCryptoKeyVersions || !kms.destroyCryptoKeyVersion) throw new UsageError('this Cloud KMS client cannot destroy key versions');
      const [versions] = await kms.listCryptoKeyVersions({ parent: this.ref.keyName });
      const destroyed: string[] = [];
      for (const version of versions) {
        if (!version.name || GONE_STATES.has(version.state ?? '')) continue;
        await kms.destroyCryptoKeyVersion({ name: version.name });
        destroyed.push(version.name);
      }
      return destroyed;
    } catch (err) {
      throw mapGcpKmsError(err, this.ref.keyName);
    }
  }

  async close(): Promise<void> {
    const client = await this.client?.catch(() => undefined);
    this.client = undefined;
    await client?.close?.();
  }
}

/** Key id of a Cloud KMS KEK: `gcp-kms:` + the CryptoKey name (its versions are one KEK). */
export function gcpKmsKekId(keyName: string): string {
  return `gcp-kms:${keyName}`.slice(0, 256);
}

/** Additional authenticated data of every Tresor Cloud KMS wrap. */
export function gcpKmsAad(kekId: string): Buffer {
  return Buffer.from(`tresor:key-wrap/v1:${kekId}`, 'utf8');
}

/** gRPC status codes of google-gax errors. */
const GRPC = { INVALID_ARGUMENT: 3, NOT_FOUND: 5, PERMISSION_DENIED: 7, FAILED_PRECONDITION: 9, UNAUTHENTICATED: 16 } as const;

/** Maps google-gax errors (numeric gRPC `code`) to Tresor's typed errors. Exported for the unit tests. */
export function mapGcpKmsError(err: unknown, keyName: string): Error {
  if (err instanceof UsageError || err instanceof IntegrityError) return err;
  const e = err as { code?: number; details?: string; message?: string };
  const message = e.details ?? e.message ?? String(err);
  if (e.code === GRPC.NOT_FOUND) return new NotFoundError(`Cloud KMS key ${keyName} does not exist`, { cause: err });
  if (e.code === GRPC.INVALID_ARGUMENT)
    return new WrongKeyError(`Cloud KMS key ${keyName} cannot open this wrapped key (wrong key, authenticated data or corrupted wrap): ${message}`, { cause: err });
  if (e.code === GRPC.FAILED_PRECONDITION) return new WrongKeyError(`Cloud KMS key ${keyName} (or the version that wrapped) is disabled or destroyed: ${message}`, { cause: err });
  if (e.code === GRPC.PERMISSION_DENIED || e.code === GRPC.UNAUTHENTICATED)
    return new WrongKeyError(`access to Cloud KMS key ${keyName} is denied or no Google credential was found: ${message}`, { cause: err });
  return new IoError(`Cloud KMS (${keyName}): ${e.code ?? 'error'}: ${message}`, { cause: err });
}
