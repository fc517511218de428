import {
  constants,
  createHash,
  createPrivateKey,
  createPublicKey,
  privateDecrypt,
  publicEncrypt,
} from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { IntegrityError, UsageError, WrongKeyError } from '@tresor/errors';
import { DATA_KEY_SIZE } from './data-key.js';
import type { KeyUnwrapper, KeyWrapper } from './key-wrapper.js';
import type { WrappedKey } from './wrapped-key.js';

/** Smallest RSA modulus accepted (NIST SP 800-57: 128-bit security needs 3072 bits). */
export const MIN_RSA_BITS = 3072;
const KEK_ID_HEX_CHARS = 32;
const OAEP = { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' } as const;

/** Wraps data keys to an RSA public key (RSA-OAEP, SHA-256): a write-only host can back up but not restore. */
export class RsaPublicKek implements KeyWrapper {
  private constructor(
    readonly kekId: string,
    private readonly key: KeyObject,
  ) {}

  /** Loads an SPKI (or PKCS#1) PEM public key; UsageError unless it is RSA of at least 3072 bits. */
  static fromPem(publicKeyPem: string): RsaPublicKek {
    let key: KeyObject;
    try {
      key = createPublicKey({ key: publicKeyPem, format: 'pem' });
    } catch (err) {
      throw new UsageError('RSA public key is not a valid PEM public key', { cause: err });
    }
    checkRsaKey(key, 'public');
    return new RsaPublicKek(rsaKekId(key), key);
  }

  /** Seals `dek` with RSA-OAEP-SHA256. */
  async wrap(dek: Buffer): Promise<WrappedKey> {
    if (!Buffer.isBuffer(dek) || dek.length !== DATA_KEY_SIZE)
      throw new UsageError(`data key must be ${DATA_KEY_SIZE} bytes`);
    const ciphertext = publicEncrypt({ key: this.key, ...OAEP }, dek);
    return { type: 'rsa-oaep-sha256', kekId: this.kekId, ciphertext: ciphertext.toString('base64') };
  }
}

/** Opens data keys wrapped by RsaPublicKek, with the matching private key. */
export class RsaPrivateKek implements KeyUnwrapper {
  private constructor(
    readonly kekId: string,
    private readonly key: KeyObject,
  ) {}

  /** Loads a PKCS#8 or PKCS#1 PEM private key, decrypting it with `passphrase` when it is encrypted. */
  static fromPem(privateKeyPem: string, passphrase?: string): RsaPrivateKek {
    let key: KeyObject;
    try {
      key = createPrivateKey({
        key: privateKeyPem,
        format: 'pem',
        ...(passphrase === undefined ? {} : { passphrase }),
      });
    } catch (err) {
      // Both encrypted PKCS#8 and legacy encrypted PKCS#1 PEM carry the word in their header.
      if (!/ENCRYPTED/.test(privateKeyPem)) {
        throw new UsageError('RSA private key is not a valid PEM private key', { cause: err });
      }
      if (passphrase === undefined)
        throw new UsageError('RSA private key is encrypted: supply its passphrase', { cause: err });
      throw new WrongKeyError('wrong passphrase for the RSA private key', { cause: err });
    }
    checkRsaKey(key, 'private');
    return new RsaPrivateKek(rsaKekId(createPublicKey(key)), key);
  }

  /** True for RSA wraps made to this key's public half. */
  canUnwrap(wrapped: WrappedKey): boolean {
    return wrapped.type === 'rsa-oaep-sha256' && wrapped.kekId === this.kekId;
  }

  /** Opens an RSA-OAEP wrap; WrongKeyError when it was made to another key. */
  async unwrap(wrapped: WrappedKey): Promise<Buffer> {
    if (wrapped.type !== 'rsa-oaep-sha256')
      throw new WrongKeyError(`key ${wrapped.kekId} is not wrapped with RSA`);
    if (wrapped.kekId !== this.kekId) {
      throw new WrongKeyError(
        `wrapped key ${wrapped.kekId} was sealed to another RSA key than ${this.kekId}`,
      );
    }
    const ciphertext = Buffer.from(wrapped.ciphertext, 'base64');
    const modulusBytes = Math.ceil((this.key.asymmetricKeyDetails?.modulusLength ?? 0) / 8);
    if (ciphertext.length !== modulusBytes) {
      throw new IntegrityError(
        `wrapped key ${wrapped.kekId} is ${ciphertext.length} bytes, not the ${modulusBytes} of its RSA modulus`,
      );
    }
    let dek: Buffer;
    try {
      dek = privateDecrypt({ key: this.key, ...OAEP }, ciphertext);
    } catch (err) {
      throw new WrongKeyError(
        `RSA key ${this.kekId} cannot open wrapped key ${wrapped.kekId} (wrong key or corrupted wrap)`,
        { cause: err },
      );
    }
    if (dek.length !== DATA_KEY_SIZE)
      throw new IntegrityError(`wrapped key ${wrapped.kekId} does not hold a ${DATA_KEY_SIZE}-byte data key`);
    return dek;
  }
}

/** Key id of an RSA KEK: `rsa:` + the first 32 hex chars of SHA-256 over the SPKI DER public key. */
export function rsaKekId(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return `rsa:${createHash('sha256').update(der).digest('hex').slice(0, KEK_ID_HEX_CHARS)}`;
}

function checkRsaKey(key: KeyObject, kind: 'public' | 'private'): void {
  if (key.asymmetricKeyType !== 'rsa') {
    throw new UsageError(`${kind} key is ${key.asymmetricKeyType ?? 'not asymmetric'}, not RSA`);
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_RSA_BITS) {
    throw new UsageError(`RSA ${kind} key has ${bits} bits; at least ${MIN_RSA_BITS} are required`);
  }
}
