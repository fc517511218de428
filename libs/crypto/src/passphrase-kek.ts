import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { IntegrityError, UsageError, WrongKeyError } from '@tresor/errors';
import { DATA_KEY_SIZE } from './data-key.js';
import { deriveKek, newKdfParams } from './kdf.js';
import type { KeyUnwrapper, KeyWrapper } from './key-wrapper.js';
import type { KdfAlgorithm, KdfParams, PassphraseWrap, WrappedKey } from './wrapped-key.js';

const CIPHER = 'aes-256-gcm';
const NONCE_SIZE = 12;
const TAG_SIZE = 16;
const KEK_ID_LABEL = 'tresor-kek-id';
const KEK_ID_HEX_CHARS = 16;

/** A passphrase-derived KEK (argon2id, scrypt or PBKDF2-SHA256) that wraps data keys with AES-256-GCM. */
export class PassphraseKek implements KeyWrapper, KeyUnwrapper {
  private constructor(
    readonly kekId: string,
    private readonly kdf: KdfParams,
    private readonly kek: Buffer,
  ) {}

  /** Fresh parameters with a random salt: argon2id 64 MiB/3 passes/1 lane, scrypt N=2^17, r=8, p=1, or PBKDF2-SHA256 600,000 iterations. */
  static newKdfParams(alg: KdfAlgorithm = 'argon2id'): KdfParams {
    return newKdfParams(alg);
  }

  /** Derives the KEK; IntegrityError if the parameters are weaker than the minimum. */
  static async derive(passphrase: string, params: KdfParams): Promise<PassphraseKek> {
    const kek = await deriveKek(passphrase, params);
    return new PassphraseKek(passphraseKekId(params.salt), { ...params }, kek);
  }

  /** Seals `dek` under this KEK with a fresh random nonce. */
  async wrap(dek: Buffer): Promise<WrappedKey> {
    if (!Buffer.isBuffer(dek) || dek.length !== DATA_KEY_SIZE)
      throw new UsageError(`data key must be ${DATA_KEY_SIZE} bytes`);
    const nonce = randomBytes(NONCE_SIZE);
    const cipher = createCipheriv(CIPHER, this.kek, nonce);
    cipher.setAAD(passphraseWrapAad(this.kekId));
    const ciphertext = Buffer.concat([cipher.update(dek), cipher.final(), cipher.getAuthTag()]);
    return {
      type: 'passphrase',
      kekId: this.kekId,
      kdf: { ...this.kdf },
      nonce: nonce.toString('base64'),
      ciphertext: ciphertext.toString('base64'),
    };
  }

  /** True for passphrase wraps made under this KEK (same salt). */
  canUnwrap(wrapped: WrappedKey): boolean {
    return wrapped.type === 'passphrase' && wrapped.kekId === this.kekId;
  }

  /** Opens a wrap made under this KEK; WrongKeyError when the passphrase is wrong. */
  async unwrap(wrapped: WrappedKey): Promise<Buffer> {
    if (wrapped.type !== 'passphrase')
      throw new WrongKeyError(`key ${wrapped.kekId} is not protected by a passphrase`);
    checkWrapShape(wrapped);
    if (wrapped.kekId !== this.kekId) {
      throw new WrongKeyError(
        `wrapped key ${wrapped.kekId} was sealed under another passphrase key than ${this.kekId}`,
      );
    }
    return openPassphraseWrap(this.kek, wrapped);
  }
}

/** A KeyUnwrapper for any passphrase wrap: derives the KEK from the parameters stored in each wrap. */
export function passphraseUnwrapper(passphrase: string): KeyUnwrapper {
  return {
    canUnwrap: (wrapped) => wrapped.type === 'passphrase',
    async unwrap(wrapped) {
      if (wrapped.type !== 'passphrase')
        throw new WrongKeyError(`key ${wrapped.kekId} is not protected by a passphrase`);
      checkWrapShape(wrapped);
      const kek = await PassphraseKek.derive(passphrase, wrapped.kdf);
      return kek.unwrap(wrapped);
    },
  };
}

/** Key id of a passphrase KEK: stable per salt and independent of the secret. */
export function passphraseKekId(saltB64: string): string {
  const digest = createHash('sha256')
    .update(Buffer.from(saltB64, 'base64'))
    .update(KEK_ID_LABEL, 'utf8')
    .digest('hex');
  return `passphrase:${digest.slice(0, KEK_ID_HEX_CHARS)}`;
}

/** Associated data of a passphrase wrap: binds the wrap type and KEK id. */
export function passphraseWrapAad(kekId: string): Buffer {
  return Buffer.from(`tresor/v1/key-wrap\npassphrase\n${kekId}`, 'utf8');
}

function checkWrapShape(wrapped: PassphraseWrap): void {
  if (passphraseKekId(wrapped.kdf.salt) !== wrapped.kekId) {
    throw new IntegrityError(`wrapped key ${wrapped.kekId} does not match the salt stored with it`);
  }
  if (Buffer.from(wrapped.nonce, 'base64').length !== NONCE_SIZE) {
    throw new IntegrityError(`wrapped key ${wrapped.kekId} has a nonce that is not ${NONCE_SIZE} bytes`);
  }
  if (Buffer.from(wrapped.ciphertext, 'base64').length !== DATA_KEY_SIZE + TAG_SIZE) {
    throw new IntegrityError(`wrapped key ${wrapped.kekId} is not ${DATA_KEY_SIZE + TAG_SIZE} bytes long`);
  }
}

function openPassphraseWrap(kek: Buffer, wrapped: PassphraseWrap): Buffer {
  const sealed = Buffer.from(wrapped.ciphertext, 'base64');
  const decipher = createDecipheriv(CIPHER, kek, Buffer.from(wrapped.nonce, 'base64'));
  decipher.setAAD(passphraseWrapAad(wrapped.kekId));
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_SIZE));
  const body = decipher.update(sealed.subarray(0, sealed.length - TAG_SIZE));
  try {
    return Buffer.concat([body, decipher.final()]);
  } catch {
    throw new WrongKeyError(`wrong passphrase for key ${wrapped.kekId}`);
  }
}
