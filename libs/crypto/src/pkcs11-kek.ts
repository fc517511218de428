import { createHash, randomBytes } from 'node:crypto';
import pkcs11js from 'pkcs11js';
import { ConflictError, IntegrityError, IoError, NotFoundError, UsageError, WrongKeyError } from '@tresor/errors';
import { DATA_KEY_SIZE } from './data-key.js';
import type { KeyUnwrapper, KeyWrapper } from './key-wrapper.js';
import type { Pkcs11Wrap, WrappedKey } from './wrapped-key.js';

const NONCE_SIZE = 12;
const TAG_SIZE = 16;
const AES_KEY_BYTES = 32;
const KEK_ID_HEX_CHARS = 32;

/** Where a PKCS#11 KEK lives. The PIN is a secret: it is never stored or printed. */
export interface Pkcs11KeyRef {
  /** Path of the PKCS#11 module (e.g. /usr/lib/softhsm/libsofthsm2.so). */
  readonly module: string;
  readonly tokenLabel: string;
  /** CKA_LABEL of the AES-256 key on the token. */
  readonly keyLabel: string;
  readonly pin: string;
}

/**
 * A KEK that is an AES-256 key inside a PKCS#11 token (HSM): data keys are sealed with
 * CKM_AES_GCM by the token, so the KEK itself never exists outside it.
 */
export class Pkcs11Kek implements KeyWrapper, KeyUnwrapper {
  private closed = false;

  private constructor(
    readonly kekId: string,
    private readonly ref: Omit<Pkcs11KeyRef, 'pin'>,
    private readonly lib: LoadedModule,
    private readonly session: Buffer,
    private readonly key: Buffer,
  ) {}

  /** Logs in to the token and finds the key; NotFoundError for a missing token or key, WrongKeyError for a wrong PIN. */
  static async open(ref: Pkcs11KeyRef): Promise<Pkcs11Kek> {
    const { lib, session } = openSession(ref);
    try {
      const key = findKey(lib.p11, session, ref.keyLabel);
      if (!key) throw new NotFoundError(`PKCS#11 token '${ref.tokenLabel}' has no AES key labelled '${ref.keyLabel}'`);
      return new Pkcs11Kek(pkcs11KekId(ref.tokenLabel, ref.keyLabel), { module: ref.module, tokenLabel: ref.tokenLabel, keyLabel: ref.keyLabel }, lib, session, key);
    } catch (err) {
      closeSession(lib, session);
      throw err;
    }
  }

  /**
   * Generates the AES-256 KEK on the token: persistent, sensitive, never extractable, usable only
   * to encrypt and decrypt. ConflictError when a key with this label exists already.
   */
  static async generate(ref: Pkcs11KeyRef): Promise<Pkcs11Kek> {
    const { lib, session } = openSession(ref);
    try {
      if (findKey(lib.p11, session, ref.keyLabel))
        throw new ConflictError(`PKCS#11 token '${ref.tokenLabel}' already has a key labelled '${ref.keyLabel}'`);
      lib.p11.C_GenerateKey(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN, parameter: undefined }, [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
        { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
        { type: pkcs11js.CKA_VALUE_LEN, value: AES_KEY_BYTES },
        { type: pkcs11js.CKA_LABEL, value: ref.keyLabel },
        { type: pkcs11js.CKA_TOKEN, value: true },
        { type: pkcs11js.CKA_PRIVATE, value: true },
        { type: pkcs11js.CKA_SENSITIVE, value: true },
        { type: pkcs11js.CKA_EXTRACTABLE, value: false },
        { type: pkcs11js.CKA_ENCRYPT, value: true },
        { type: pkcs11js.CKA_DECRYPT, value: true },
        { type: pkcs11js.CKA_WRAP, value: false },
        { type: pkcs11js.CKA_UNWRAP, value: false },
      ]);
    } catch (err) {
      throw mapError(err, ref.tokenLabel);
    } finally {
      closeSession(lib, session);
    }
    return Pkcs11Kek.open(ref);
  }

  /** Destroys the key on the token (crypto-shredding of everything only it wrapped). */
  static async destroy(ref: Pkcs11KeyRef): Promise<boolean> {
    const { lib, session } = openSession(ref);
    try {
      const key = findKey(lib.p11, session, ref.keyLabel);
      if (!key) return false;
      lib.p11.C_DestroyObject(session, key);
      return true;
    } catch (err) {
      throw mapError(err, ref.tokenLabel);
    } finally {
      closeSession(lib, session);
    }
  }

  /** Seals `dek` with AES-256-GCM on the token; the AAD binds the wrap type and kekId. */
  async wrap(dek: Buffer): Promise<WrappedKey> {
    if (!Buffer.isBuffer(dek) || dek.length !== DATA_KEY_SIZE) throw new UsageError(`data key must be ${DATA_KEY_SIZE} bytes`);
    this.checkOpen();
    const nonce = randomBytes(NONCE_SIZE);
    try {
      this.lib.p11.C_EncryptInit(this.session, gcm(nonce, this.kekId), this.key);
      const sealed = this.lib.p11.C_Encrypt(this.session, dek, Buffer.alloc(DATA_KEY_SIZE + TAG_SIZE));
      return {
        type: 'pkcs11-aes-gcm',
        kekId: this.kekId,
        tokenLabel: this.ref.tokenLabel,
        keyLabel: this.ref.keyLabel,
        nonce: nonce.toString('base64'),
        ciphertext: Buffer.from(sealed).toString('base64'),
      };
    } catch (err) {
      throw mapError(err, this.ref.tokenLabel);
    }
  }

  canUnwrap(wrapped: WrappedKey): boolean {
    return wrapped.type === 'pkcs11-aes-gcm' && wrapped.kekId === this.kekId;
  }

  /** Opens a wrap on the token; WrongKeyError for another key or a modified wrap. */
  async unwrap(wrapped: WrappedKey): Promise<Buffer> {
    if (wrapped.type !== 'pkcs11-aes-gcm') throw new WrongKeyError(`key ${wrapped.kekId} is not wrapped by a PKCS#11 key`);
    if (wrapped.kekId !== this.kekId)
      throw new WrongKeyError(`wrapped key ${wrapped.kekId} was sealed by another PKCS#11 key than ${this.kekId}`);
    checkShape(wrapped);
    this.checkOpen();
    const sealed = Buffer.from(wrapped.ciphertext, 'base64');
    try {
      this.lib.p11.C_DecryptInit(this.session, gcm(Buffer.from(wrapped.nonce, 'base64'), wrapped.kekId), this.key);
      const dek = Buffer.from(this.lib.p11.C_Decrypt(this.session, sealed, Buffer.alloc(sealed.length)));
      if (dek.length !== DATA_KEY_SIZE) throw new IntegrityError(`wrapped key ${wrapped.kekId} does not hold a ${DATA_KEY_SIZE}-byte data key`);
      return dek;
    } catch (err) {
      if (err instanceof IntegrityError) throw err;
      throw new WrongKeyError(`PKCS#11 key '${this.ref.keyLabel}' cannot open wrapped key ${wrapped.kekId} (wrong key or corrupted wrap)`, {
        cause: err,
      });
    }
  }

  /** Logs out and closes the session (finalising the module when no other session uses it). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSession(this.lib, this.session);
  }

  private checkOpen(): void {
    if (this.closed) throw new UsageError(`PKCS#11 key ${this.kekId} is closed`);
  }
}

/** Key id of a PKCS#11 KEK: `pkcs11:` + the first 32 hex chars of SHA-256(tokenLabel LF keyLabel). */
export function pkcs11KekId(tokenLabel: string, keyLabel: string): string {
  return `pkcs11:${createHash('sha256').update(`${tokenLabel}\n${keyLabel}`, 'utf8').digest('hex').slice(0, KEK_ID_HEX_CHARS)}`;
}

/** Associated data of a PKCS#11 wrap: binds the wrap type and KEK id. */
export function pkcs11WrapAad(kekId: string): Buffer {
  return Buffer.from(`tresor/v1/key-wrap\npkcs11-aes-gcm\n${kekId}`, 'utf8');
}

interface LoadedModule {
  readonly path: string;
  readonly p11: pkcs11js.PKCS11;
  sessions: number;
  /** False when someone else in this process had initialised the module already. */
  readonly ownsInit: boolean;
}

// One loaded module per path; C_Initialize/C_Finalize are process-wide in PKCS#11.
const modules = new Map<string, LoadedModule>();

function loadModule(path: string): LoadedModule {
  const existing = modules.get(path);
  if (existing) return existing;
  const p11 = new pkcs11js.PKCS11();
  try {
    p11.load(path);
  } catch (err) {
    throw new UsageError(`cannot load PKCS#11 module ${path}: ${(err as Error).message}`, { cause: err });
  }
  let ownsInit = true;
  try {
    p11.C_Initialize();
  } catch (err) {
    if (!String((err as Error).message).includes('CKR_CRYPTOKI_ALREADY_INITIALIZED')) throw mapError(err, path);
    ownsInit = false;
  }
  const lib = { path, p11, sessions: 0, ownsInit };
  modules.set(path, lib);
  return lib;
}

function openSession(ref: Pkcs11KeyRef): { lib: LoadedModule; session: Buffer } {
  const lib = loadModule(ref.module);
  const slot = lib.p11.C_GetSlotList(true).find((s) => lib.p11.C_GetTokenInfo(s).label.trim() === ref.tokenLabel);
  if (!slot) {
    releaseModule(lib);
    throw new NotFoundError(`no PKCS#11 token labelled '${ref.tokenLabel}' in module ${ref.module}`);
  }
  const session = lib.p11.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
  lib.sessions++;
  try {
    lib.p11.C_Login(session, pkcs11js.CKU_USER, ref.pin);
  } catch (err) {
    if (!String((err as Error).message).includes('CKR_USER_ALREADY_LOGGED_IN')) {
      closeSession(lib, session);
      throw mapError(err, ref.tokenLabel);
    }
  }
  return { lib, session };
}

function closeSession(lib: LoadedModule, session: Buffer): void {
  try {
    lib.p11.C_CloseSession(session);
  } catch {
    // Already closed (token removed): nothing left to release.
  }
  lib.sessions--;
  releaseModule(lib);
}

function releaseModule(lib: LoadedModule): void {
  if (lib.sessions > 0) return;
  modules.delete(lib.path);
  if (lib.ownsInit) {
    try {
      lib.p11.C_Finalize();
    } catch {
      // Finalising twice is harmless.
    }
  }
}

function findKey(p11: pkcs11js.PKCS11, session: Buffer, label: string): Buffer | undefined {
  p11.C_FindObjectsInit(session, [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
    { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
    { type: pkcs11js.CKA_LABEL, value: label },
  ]);
  try {
    const found = p11.C_FindObjects(session, 2);
    if (found.length > 1) throw new IntegrityError(`PKCS#11 token has more than one AES key labelled '${label}'`);
    return found[0];
  } finally {
    p11.C_FindObjectsFinal(session);
  }
}

function gcm(nonce: Buffer, kekId: string): pkcs11js.Mechanism {
  return {
    mechanism: pkcs11js.CKM_AES_GCM,
    parameter: { type: pkcs11js.CK_PARAMS_AES_GCM, iv: nonce, aad: pkcs11WrapAad(kekId), tagBits: TAG_SIZE * 8 } as pkcs11js.AesGCM,
  };
}

function checkShape(wrapped: Pkcs11Wrap): void {
  if (pkcs11KekId(wrapped.tokenLabel, wrapped.keyLabel) !== wrapped.kekId)
    throw new IntegrityError(`wrapped key ${wrapped.kekId} does not match the token and key labels stored with it`);
  if (Buffer.from(wrapped.nonce, 'base64').length !== NONCE_SIZE)
    throw new IntegrityError(`wrapped key ${wrapped.kekId} has a nonce that is not ${NONCE_SIZE} bytes`);
  if (Buffer.from(wrapped.ciphertext, 'base64').length !== DATA_KEY_SIZE + TAG_SIZE)
    throw new IntegrityError(`wrapped key ${wrapped.kekId} is not ${DATA_KEY_SIZE + TAG_SIZE} bytes long`);
}

/** PKCS#11 return values to Tresor errors; never includes the PIN. */
function mapError(err: unknown, where: string): Error {
  if (err instanceof Error && 'exitCode' in err) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (/CKR_PIN_INCORRECT|CKR_PIN_INVALID|CKR_PIN_LEN_RANGE/.test(message))
    return new WrongKeyError(`wrong PIN for PKCS#11 token '${where}'`);
  if (/CKR_PIN_LOCKED/.test(message)) return new WrongKeyError(`the PIN of PKCS#11 token '${where}' is locked`);
  return new IoError(`PKCS#11 token '${where}': ${message.split('\n')[0]}`, { cause: err });
}
