import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
} from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { IntegrityError, UsageError, WrongKeyError } from '@tresor/errors';
import { DATA_KEY_SIZE } from './data-key.js';
import type { KeyUnwrapper, KeyWrapper } from './key-wrapper.js';
import type { WrappedKey, X25519Wrap } from './wrapped-key.js';

const CIPHER = 'aes-256-gcm';
const NONCE_SIZE = 12;
const TAG_SIZE = 16;
const POINT_SIZE = 32;
const KEK_ID_HEX_CHARS = 32;
const HKDF_INFO = 'tresor/v1/key-wrap/x25519';

/**
 * Wraps data keys to an X25519 public key (ECIES-style: ephemeral ECDH, HKDF-SHA256, AES-256-GCM).
 * Like RsaPublicKek it lets a write-only host back up without being able to restore.
 */
export class X25519PublicKek implements KeyWrapper {
  private constructor(
    readonly kekId: string,
    private readonly key: KeyObject,
  ) {}

  /** Loads an SPKI PEM X25519 public key (`openssl pkey -pubout`). */
  static fromPem(publicKeyPem: string): X25519PublicKek {
    let key: KeyObject;
    try {
      key = createPublicKey({ key: publicKeyPem, format: 'pem' });
    } catch (err) {
      throw new UsageError('X25519 public key is not a valid PEM public key', { cause: err });
    }
    if (key.asymmetricKeyType !== 'x25519')
      throw new UsageError(`public key is ${key.asymmetricKeyType ?? 'not asymmetric'}, not X25519`);
    return new X25519PublicKek(x25519KekId(key), key);
  }

  /** Seals `dek` under a key agreed between a fresh ephemeral key and the recipient. */
  async wrap(dek: Buffer): Promise<WrappedKey> {
    if (!Buffer.isBuffer(dek) || dek.length !== DATA_KEY_SIZE)
      throw new UsageError(`data key must be ${DATA_KEY_SIZE} bytes`);
    const ephemeral = generateKeyPairSync('x25519');
    const ephemeralRaw = rawPublic(ephemeral.publicKey);
    const wrapKey = deriveWrapKey(diffieHellman({ privateKey: ephemeral.privateKey, publicKey: this.key }), ephemeralRaw, rawPublic(this.key));
    const nonce = randomBytes(NONCE_SIZE);
    const cipher = createCipheriv(CIPHER, wrapKey, nonce);
    cipher.setAAD(x25519WrapAad(this.kekId));
    const ciphertext = Buffer.concat([cipher.update(dek), cipher.final(), cipher.getAuthTag()]);
    wrapKey.fill(0);
    return {
      type: 'x25519',
      kekId: this.kekId,
      ephemeralPublicKey: ephemeralRaw.toString('base64'),
      nonce: nonce.toString('base64'),
      ciphertext: ciphertext.toString('base64'),
    };
  }
}

/** Opens data keys wrapped by X25519PublicKek, with the matching private key. */
export class X25519PrivateKek implements KeyUnwrapper {
  private constructor(
    readonly kekId: string,
    private readonly key: KeyObject,
    private readonly publicRaw: Buffer,
  ) {}

  /** Loads a PKCS#8 PEM X25519 private key (`openssl genpkey -algorithm X25519`). */
  static fromPem(privateKeyPem: string, passphrase?: string): X25519PrivateKek {
    let key: KeyObject;
    try {
      key = createPrivateKey({ key: privateKeyPem, format: 'pem', ...(passphrase === undefined ? {} : { passphrase }) });
    } catch (err) {
      if (/ENCRYPTED/.test(privateKeyPem)) throw new WrongKeyError('cannot decrypt the X25519 private key (wrong or missing passphrase)', { cause: err });
      throw new UsageError('X25519 private key is not a valid PEM private key', { cause: err });
    }
    if (key.asymmetricKeyType !== 'x25519')
      throw new UsageError(`private key is ${key.asymmetricKeyType ?? 'not asymmetric'}, not X25519`);
    const publicKey = createPublicKey(key);
    return new X25519PrivateKek(x25519KekId(publicKey), key, rawPublic(publicKey));
  }

  canUnwrap(wrapped: WrappedKey): boolean {
    return wrapped.type === 'x25519' && wrapped.kekId === this.kekId;
  }

  /** Opens an X25519 wrap; WrongKeyError when it was made to another key or was modified. */
  async unwrap(wrapped: WrappedKey): Promise<Buffer> {
    if (wrapped.type !== 'x25519') throw new WrongKeyError(`key ${wrapped.kekId} is not wrapped with X25519`);
    if (wrapped.kekId !== this.kekId)
      throw new WrongKeyError(`wrapped key ${wrapped.kekId} was sealed to another X25519 key than ${this.kekId}`);
    const { ephemeralRaw, nonce, sealed } = checkShape(wrapped);
    const ephemeral = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: ephemeralRaw.toString('base64url') }, format: 'jwk' });
    let shared: Buffer;
    try {
      shared = diffieHellman({ privateKey: this.key, publicKey: ephemeral });
    } catch (err) {
      throw new IntegrityError(`wrapped key ${wrapped.kekId} has an invalid ephemeral public key`, { cause: err });
    }
    const wrapKey = deriveWrapKey(shared, ephemeralRaw, this.publicRaw);
    const decipher = createDecipheriv(CIPHER, wrapKey, nonce);
    decipher.setAAD(x25519WrapAad(wrapped.kekId));
    decipher.setAuthTag(sealed.subarray(DATA_KEY_SIZE));
    const body = decipher.update(sealed.subarray(0, DATA_KEY_SIZE));
    try {
      return Buffer.concat([body, decipher.final()]);
    } catch {
      throw new WrongKeyError(`X25519 key ${this.kekId} cannot open wrapped key ${wrapped.kekId} (wrong key or corrupted wrap)`);
    } finally {
      wrapKey.fill(0);
    }
  }
}

/** Key id of an X25519 KEK: `x25519:` + the first 32 hex chars of SHA-256 over the raw 32-byte public key. */
export function x25519KekId(publicKey: KeyObject): string {
  return `x25519:${createHash('sha256').update(rawPublic(publicKey)).digest('hex').slice(0, KEK_ID_HEX_CHARS)}`;
}

/** Associated data of an X25519 wrap: binds the wrap type and KEK id. */
export function x25519WrapAad(kekId: string): Buffer {
  return Buffer.from(`tresor/v1/key-wrap\nx25519\n${kekId}`, 'utf8');
}

function deriveWrapKey(shared: Buffer, ephemeralRaw: Buffer, recipientRaw: Buffer): Buffer {
  // An all-zero shared secret means a low-order point was supplied (RFC 7748 §6.1).
  if (shared.every((b) => b === 0)) throw new IntegrityError('X25519 key agreement produced the all-zero secret (low-order point)');
  const key = Buffer.from(hkdfSync('sha256', shared, Buffer.concat([ephemeralRaw, recipientRaw]), HKDF_INFO, 32));
  shared.fill(0);
  return key;
}

function rawPublic(key: KeyObject): Buffer {
  const jwk = key.export({ format: 'jwk' });
  return Buffer.from(jwk.x!, 'base64url');
}

function checkShape(wrapped: X25519Wrap): { ephemeralRaw: Buffer; nonce: Buffer; sealed: Buffer } {
  const ephemeralRaw = Buffer.from(wrapped.ephemeralPublicKey, 'base64');
  const nonce = Buffer.from(wrapped.nonce, 'base64');
  const sealed = Buffer.from(wrapped.ciphertext, 'base64');
  if (ephemeralRaw.length !== POINT_SIZE)
    throw new IntegrityError(`wrapped key ${wrapped.kekId} has an ephemeral key that is not ${POINT_SIZE} bytes`);
  if (nonce.length !== NONCE_SIZE) throw new IntegrityError(`wrapped key ${wrapped.kekId} has a nonce that is not ${NONCE_SIZE} bytes`);
  if (sealed.length !== DATA_KEY_SIZE + TAG_SIZE)
    throw new IntegrityError(`wrapped key ${wrapped.kekId} is not ${DATA_KEY_SIZE + TAG_SIZE} bytes long`);
  return { ephemeralRaw, nonce, sealed };
}
