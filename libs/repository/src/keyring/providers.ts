import { createPrivateKey } from 'node:crypto';
import {
  AwsKmsKek,
  AzureKeyVaultKek,
  GcpKmsKek,
  PassphraseKek,
  Pkcs11Kek,
  RsaPrivateKek,
  RsaPublicKek,
  X25519PrivateKek,
  X25519PublicKek,
} from '@tresor/crypto';
import type { KeyUnwrapper, KeyWrapper, WrappedKey } from '@tresor/crypto';
import { UsageError, WrongKeyError } from '@tresor/errors';
import type { KeySupplier } from '../keys.js';
import type { Slot } from './kek-versions.js';

/** Something holding a session or client that must be released. */
export interface Closable {
  close(): void;
}

/**
 * Turns slots (public descriptions of KEKs) and wraps into wrappers and unwrappers, asking the
 * supplier for the secrets each needs once, and caching what it built.
 */
export class ProviderCache {
  private readonly passphraseKeks = new Map<string, Promise<PassphraseKek>>();
  private readonly pkcs11 = new Map<string, Promise<Pkcs11Kek>>();
  private readonly kms = new Map<string, AwsKmsKek>();
  private readonly cloud = new Map<string, AzureKeyVaultKek | GcpKmsKek>();
  private identity?: Promise<KeyUnwrapper>;
  private readonly passphrases: string[] = [];

  constructor(
    private readonly supplier: KeySupplier,
    private readonly location: string,
  ) {}

  /** A passphrase tried before asking the supplier (the new one during rotation and recovery). */
  addPassphrase(passphrase: string): void {
    this.passphrases.push(passphrase);
  }

  /** The wrapper of one slot. A passphrase is checked against the slot's check wrap before use. */
  async wrapper(slot: Slot): Promise<KeyWrapper> {
    switch (slot.type) {
      case 'passphrase':
        return this.passphraseKek(slot.check);
      case 'rsa-oaep-sha256':
        return RsaPublicKek.fromPem(slot.publicKeyPem);
      case 'x25519':
        return X25519PublicKek.fromPem(slot.publicKeyPem);
      case 'pkcs11-aes-gcm':
        return this.pkcs11Kek(slot.module, slot.tokenLabel, slot.keyLabel);
      case 'aws-kms':
        return this.kmsKek(slot.keyId, slot.region, slot.endpoint);
      case 'azure-key-vault':
        return this.azureKek(slot.keyUrl);
      case 'gcp-kms':
        return this.gcpKek(slot.keyName);
    }
  }

  /**
   * The unwrapper for a wrap, or a UsageError when the secret it needs was not given
   * (passphrase, identity, PIN). `slots` supply provider locations (module path, KMS region).
   */
  async unwrapper(wrapped: WrappedKey, slots: readonly Slot[]): Promise<KeyUnwrapper> {
    switch (wrapped.type) {
      case 'passphrase':
        return this.passphraseKek(wrapped);
      case 'rsa-oaep-sha256':
      case 'x25519':
        return (this.identity ??= this.loadIdentity());
      case 'pkcs11-aes-gcm': {
        const slot = slots.find((s) => s.type === 'pkcs11-aes-gcm' && s.kekId === wrapped.kekId);
        const module = process.env.TRESOR_PKCS11_MODULE ?? (slot?.type === 'pkcs11-aes-gcm' ? slot.module : undefined);
        if (!module) throw new UsageError(`wrapped key ${wrapped.kekId} needs a PKCS#11 module: set TRESOR_PKCS11_MODULE`);
        return this.pkcs11Kek(module, wrapped.tokenLabel, wrapped.keyLabel);
      }
      case 'aws-kms': {
        const slot = slots.find((s) => s.type === 'aws-kms' && s.kekId === wrapped.kekId);
        const region = slot?.type === 'aws-kms' ? slot.region : /^arn:aws[a-z-]*:kms:([a-z0-9-]+):/.exec(wrapped.keyId)?.[1];
        if (!region) throw new UsageError(`wrapped key ${wrapped.kekId} does not name an AWS region`);
        const endpoint = process.env.TRESOR_AWS_KMS_ENDPOINT ?? (slot?.type === 'aws-kms' ? slot.endpoint : undefined);
        return this.kmsKek(wrapped.keyId, region, endpoint);
      }
      case 'azure-key-vault':
        // The configured (unversioned) key: the wrap's versioned URL must lie under it.
        return this.azureKek(wrapped.kekId.slice('azure-kv:'.length));
      case 'gcp-kms':
        return this.gcpKek(wrapped.kekId.slice('gcp-kms:'.length));
    }
  }

  /** Releases HSM sessions and KMS clients. */
  async close(): Promise<void> {
    for (const kek of this.pkcs11.values()) (await kek.catch(() => undefined))?.close();
    for (const kek of this.kms.values()) kek.close();
    for (const kek of this.cloud.values()) if (kek instanceof GcpKmsKek) await kek.close();
    this.pkcs11.clear();
    this.kms.clear();
    this.cloud.clear();
  }

  private passphraseKek(check: WrappedKey): Promise<PassphraseKek> {
    if (check.type !== 'passphrase') throw new UsageError('a passphrase slot holds no passphrase wrap');
    let kek = this.passphraseKeks.get(check.kekId);
    if (!kek) {
      kek = (async () => {
        for (const known of this.passphrases) {
          const candidate = await PassphraseKek.derive(known, check.kdf);
          if (await candidate.unwrap(check).then(() => true, () => false)) return candidate;
        }
        const derived = await PassphraseKek.derive(await this.supplier.passphrase(), check.kdf);
        try {
          await derived.unwrap(check);
        } catch (err) {
          if (err instanceof WrongKeyError) throw new WrongKeyError(`wrong passphrase for the repository in ${this.location}`);
          throw err;
        }
        return derived;
      })();
      // A failed attempt (no passphrase, wrong one) is not cached: the next call may ask again.
      kek.catch(() => this.passphraseKeks.delete(check.kekId));
      this.passphraseKeks.set(check.kekId, kek);
    }
    return kek;
  }

  private async loadIdentity(): Promise<KeyUnwrapper> {
    const pem = await this.supplier.identityPem();
    let type: string | undefined;
    try {
      type = createPrivateKey({ key: pem, format: 'pem' }).asymmetricKeyType;
    } catch {
      type = undefined;
    }
    return type === 'x25519' ? X25519PrivateKek.fromPem(pem) : RsaPrivateKek.fromPem(pem);
  }

  private pkcs11Kek(module: string, tokenLabel: string, keyLabel: string): Promise<Pkcs11Kek> {
    const id = `${module}\n${tokenLabel}\n${keyLabel}`;
    let kek = this.pkcs11.get(id);
    if (!kek) {
      kek = (async () => {
        if (!this.supplier.pkcs11Pin) throw new UsageError(`PKCS#11 token '${tokenLabel}' needs its PIN: set TRESOR_PKCS11_PIN`);
        return Pkcs11Kek.open({ module, tokenLabel, keyLabel, pin: await this.supplier.pkcs11Pin(tokenLabel) });
      })();
      kek.catch(() => this.pkcs11.delete(id));
      this.pkcs11.set(id, kek);
    }
    return kek;
  }

  private azureKek(keyUrl: string): AzureKeyVaultKek {
    let kek = this.cloud.get(`azure\n${keyUrl}`);
    if (!kek) this.cloud.set(`azure\n${keyUrl}`, (kek = new AzureKeyVaultKek({ keyUrl })));
    return kek as AzureKeyVaultKek;
  }

  private gcpKek(keyName: string): GcpKmsKek {
    let kek = this.cloud.get(`gcp\n${keyName}`);
    if (!kek) this.cloud.set(`gcp\n${keyName}`, (kek = new GcpKmsKek({ keyName })));
    return kek as GcpKmsKek;
  }

  private kmsKek(keyId: string, region: string, endpoint?: string): AwsKmsKek {
    const id = `${keyId}\n${region}\n${endpoint ?? ''}`;
    let kek = this.kms.get(id);
    if (!kek) {
      kek = new AwsKmsKek({ keyId, region, ...(endpoint ? { endpoint } : {}) });
      this.kms.set(id, kek);
    }
    return kek;
  }
}
