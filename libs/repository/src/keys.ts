import { PassphraseKek, RsaPrivateKek, RsaPublicKek } from '@tresor/crypto';
import type { KeyUnwrapper, KeyWrapper, WrappedKey } from '@tresor/crypto';
import { UsageError, WrongKeyError } from '@tresor/errors';
import type { KekDescriptor } from './config.js';

/**
 * Where secrets come from. Asked lazily, so commands that need no key never prompt.
 * The CLI implements it with environment variables and a no-echo TTY prompt.
 */
export interface KeySupplier {
  passphrase(): Promise<string>;
  /** PEM private key (RSA or X25519) matching a public-key slot. */
  identityPem(): Promise<string>;
  /** PIN of a PKCS#11 token; a UsageError saying how to give it when none was. */
  pkcs11Pin?(tokenLabel: string): Promise<string>;
}

/** Unlocks a repository's key-encryption key on demand and (un)wraps data keys with it. */
export class RepositoryKeys {
  private passphraseKek?: PassphraseKek;
  private privateKek?: RsaPrivateKek;

  constructor(
    private readonly kek: KekDescriptor,
    /** Where secrets come from; the key service (keyring/) asks it for each provider's. */
    readonly supplier: KeySupplier,
    private readonly location: string,
  ) {}

  /**
   * The wrapper of a legacy single-KEK repository; a passphrase is checked before use.
   * Backups use KeyService.wrapDataKey, which wraps for every slot of the current KEK version.
   */
  async wrapper(): Promise<KeyWrapper> {
    if (this.kek.type === 'rsa-oaep-sha256') return RsaPublicKek.fromPem(this.kek.publicKeyPem);
    return this.unlockPassphrase();
  }

  /** Recovers a data key from the wrapped copies stored with an archive. */
  async unlock(keys: readonly WrappedKey[]): Promise<Buffer> {
    const unwrapper = await this.unwrapper();
    const usable = keys.find((k) => unwrapper.canUnwrap(k));
    if (!usable) {
      throw new WrongKeyError(`no key slot of this archive can be opened with the ${this.describe()}`);
    }
    return unwrapper.unwrap(usable);
  }

  /** True when restores need an identity file rather than a passphrase. */
  get isPublicKeyRepository(): boolean {
    return this.kek.type === 'rsa-oaep-sha256';
  }

  private async unwrapper(): Promise<KeyUnwrapper> {
    if (this.kek.type === 'passphrase') return this.unlockPassphrase();
    if (this.kek.type !== 'rsa-oaep-sha256') throw new UsageError('this repository keeps its KEKs in versions: use KeyService');
    if (!this.privateKek) {
      const kek = await RsaPrivateKek.fromPem(await this.supplier.identityPem());
      if (kek.kekId !== this.kek.kekId) {
        throw new WrongKeyError(`the identity given does not match the public key of the repository in ${this.location}`);
      }
      this.privateKek = kek;
    }
    return this.privateKek;
  }

  private async unlockPassphrase(): Promise<PassphraseKek> {
    if (this.kek.type !== 'passphrase') throw new UsageError('this repository is not protected by a passphrase');
    if (!this.passphraseKek) {
      const check = this.kek.check;
      if (check.type !== 'passphrase') throw new UsageError('repository.json: the passphrase check is not a passphrase wrap');
      const kek = await PassphraseKek.derive(await this.supplier.passphrase(), check.kdf);
      try {
        await kek.unwrap(check);
      } catch (err) {
        if (err instanceof WrongKeyError) {
          throw new WrongKeyError(`wrong passphrase for the repository in ${this.location}`);
        }
        throw err;
      }
      this.passphraseKek = kek;
    }
    return this.passphraseKek;
  }

  /** The repository.json `kek` descriptor (legacy single KEK, or `versioned`). */
  get descriptor(): KekDescriptor {
    return this.kek;
  }

  private describe(): string {
    return this.kek.type === 'passphrase' ? 'passphrase given' : 'identity given';
  }
}
