import { createPublicKey } from 'node:crypto';
import { AwsKmsKek, AzureKeyVaultKek, GcpKmsKek, generateDataKey, PassphraseKek, Pkcs11Kek, RsaPublicKek, X25519PublicKek } from '@tresor/crypto';
import type { KdfAlgorithm } from '@tresor/crypto';
import { NotFoundError, UsageError } from '@tresor/errors';
import type { Slot } from './kek-versions.js';

/** What an operator asks for when creating a key slot (secrets included; they never reach storage). */
export type SlotSpec =
  | { readonly type: 'passphrase'; readonly passphrase: string; readonly kdf?: KdfAlgorithm }
  | { readonly type: 'public-key'; readonly publicKeyPem: string }
  | {
      readonly type: 'pkcs11';
      readonly module: string;
      readonly tokenLabel: string;
      readonly keyLabel: string;
      readonly pin: string;
      /** Generate the AES key on the token when it does not exist (default true). */
      readonly generate?: boolean;
    }
  | { readonly type: 'aws-kms'; readonly keyId: string; readonly region: string; readonly endpoint?: string }
  | { readonly type: 'azure-key-vault'; readonly keyUrl: string }
  | { readonly type: 'gcp-kms'; readonly keyName: string };

/** Builds a slot descriptor, proving the provider works (a canary wrap) before it is recorded. */
export async function buildSlot(spec: SlotSpec): Promise<Slot> {
  switch (spec.type) {
    case 'passphrase': {
      const kek = await PassphraseKek.derive(spec.passphrase, PassphraseKek.newKdfParams(spec.kdf));
      return { type: 'passphrase', kekId: kek.kekId, check: await kek.wrap(generateDataKey()) };
    }
    case 'public-key': {
      let type: string | undefined;
      try {
        type = createPublicKey({ key: spec.publicKeyPem, format: 'pem' }).asymmetricKeyType;
      } catch (err) {
        throw new UsageError('the public key is not a valid PEM public key', { cause: err });
      }
      if (type === 'x25519') return { type: 'x25519', kekId: X25519PublicKek.fromPem(spec.publicKeyPem).kekId, publicKeyPem: spec.publicKeyPem };
      return { type: 'rsa-oaep-sha256', kekId: RsaPublicKek.fromPem(spec.publicKeyPem).kekId, publicKeyPem: spec.publicKeyPem };
    }
    case 'pkcs11': {
      const ref = { module: spec.module, tokenLabel: spec.tokenLabel, keyLabel: spec.keyLabel, pin: spec.pin };
      let kek: Pkcs11Kek;
      try {
        kek = await Pkcs11Kek.open(ref);
      } catch (err) {
        if (!(err instanceof NotFoundError) || spec.generate === false || /no PKCS#11 token/.test(err.message)) throw err;
        kek = await Pkcs11Kek.generate(ref);
      }
      try {
        await kek.unwrap(await kek.wrap(generateDataKey()));
      } finally {
        kek.close();
      }
      return { type: 'pkcs11-aes-gcm', kekId: kek.kekId, module: spec.module, tokenLabel: spec.tokenLabel, keyLabel: spec.keyLabel };
    }
    case 'aws-kms': {
      const kek = new AwsKmsKek({ keyId: spec.keyId, region: spec.region, ...(spec.endpoint ? { endpoint: spec.endpoint } : {}) });
      try {
        await kek.unwrap(await kek.wrap(generateDataKey()));
      } finally {
        kek.close();
      }
      return { type: 'aws-kms', kekId: kek.kekId, keyId: spec.keyId, region: spec.region, ...(spec.endpoint ? { endpoint: spec.endpoint } : {}) };
    }
    case 'azure-key-vault': {
      const kek = new AzureKeyVaultKek({ keyUrl: spec.keyUrl });
      await kek.unwrap(await kek.wrap(generateDataKey()));
      return { type: 'azure-key-vault', kekId: kek.kekId, keyUrl: spec.keyUrl };
    }
    case 'gcp-kms': {
      const kek = new GcpKmsKek({ keyName: spec.keyName });
      try {
        await kek.unwrap(await kek.wrap(generateDataKey()));
      } finally {
        await kek.close();
      }
      return { type: 'gcp-kms', kekId: kek.kekId, keyName: spec.keyName };
    }
  }
}
