import { IntegrityError, IoError, NotFoundError, UsageError, WrongKeyError } from '@tresor/errors';
import { DATA_KEY_SIZE } from './data-key.js';
import type { KeyUnwrapper, KeyWrapper } from './key-wrapper.js';
import type { WrappedKey } from './wrapped-key.js';

/** The two Key Vault operations Tresor uses (the shape of `CryptographyClient` in `@azure/keyvault-keys`). */
export interface AzureKeyVaultCryptoPort {
  /** POST {key}/wrapkey: seals `key` with the vault key; `keyID` is the versioned key URL that was used. */
  wrapKey(algorithm: 'RSA-OAEP-256', key: Uint8Array): Promise<{ result: Uint8Array; keyID?: string }>;
  /** POST {key}/unwrapkey. */
  unwrapKey(algorithm: 'RSA-OAEP-256', encryptedKey: Uint8Array): Promise<{ result: Uint8Array }>;
}

/** Makes a crypto client for one key URL (versioned or not). */
export type AzureKeyVaultClientFactory = (keyUrl: string) => Promise<AzureKeyVaultCryptoPort>;

/**
 * The real factory: `CryptographyClient` of `@azure/keyvault-keys` with `DefaultAzureCredential`
 * (environment, workload identity, managed identity, Azure CLI). Loaded on first use, and by a
 * computed name so that the workspace builds without the optional SDK installed.
 */
export const azureKeyVaultSdkClient: AzureKeyVaultClientFactory = async (keyUrl) => {
  let keys: { CryptographyClient: new (key: string, credential: unknown) => AzureKeyVaultCryptoPort };
  let identity: { DefaultAzureCredential: new () => unknown };
  const load = (name: string) => import(name) as Promise<never>;
  try {
    [keys, identity] = await Promise.all([load('@azure/keyvault-keys'), load('@azure/identity')]);
  } catch (err) {
    throw new UsageError('Azure Key Vault slots need the packages @azure/keyvault-keys and @azure/identity (npm install)', { cause: err });
  }
  return new keys.CryptographyClient(keyUrl, new identity.DefaultAzureCredential());
};

/** Where the Key Vault key is. */
export interface AzureKeyVaultKeyRef {
  /** Key URL, e.g. https://myvault.vault.azure.net/keys/tresor-kek (latest version) or …/keys/tresor-kek/<version>. */
  readonly keyUrl: string;
  /** Client factory (tests inject a fake; default: the Azure SDK). */
  readonly client?: AzureKeyVaultClientFactory;
}

const KEY_URL = /^https:\/\/[a-z0-9-]+\.(vault|managedhsm)\.azure\.net\/keys\/[A-Za-z0-9-]+(\/[0-9a-f]{32})?$/;

/**
 * A KEK that is an RSA key in Azure Key Vault (or Managed HSM): data keys are sealed by the vault
 * with RSA-OAEP-256 (wrapKey/unwrapKey); the private key never leaves the vault, access is governed
 * by RBAC/access policies and logged in the vault's diagnostic logs. The wrap records the versioned
 * key URL, so a rotation of the vault key (new version) does not strand older wraps.
 */
export class AzureKeyVaultKek implements KeyWrapper, KeyUnwrapper {
  readonly kekId: string;
  private readonly factory: AzureKeyVaultClientFactory;
  private readonly clients = new Map<string, Promise<AzureKeyVaultCryptoPort>>();

  constructor(private readonly ref: AzureKeyVaultKeyRef) {
    if (!KEY_URL.test(ref.keyUrl)) throw new UsageError(`'${ref.keyUrl}' is not an Azure Key Vault key URL (https://VAULT.vault.azure.net/keys/NAME[/VERSION])`);
    this.kekId = azureKeyVaultKekId(ref.keyUrl);
    this.factory = ref.client ?? azureKeyVaultSdkClient;
  }

  private client(url: string): Promise<AzureKeyVaultCryptoPort> {
    let client = this.clients.get(url);
    if (!client) {
      client = this.factory(url);
      client.catch(() => this.clients.delete(url));
      this.clients.set(url, client);
    }
    return client;
  }

  async wrap(dek: Buffer): Promise<WrappedKey> {
    if (!Buffer.isBuffer(dek) || dek.length !== DATA_KEY_SIZE) throw new UsageError(`data key must be ${DATA_KEY_SIZE} bytes`);
    try {
      const out = await (await this.client(this.ref.keyUrl)).wrapKey('RSA-OAEP-256', dek);
      const keyVersionUrl = out.keyID && out.keyID.startsWith(this.ref.keyUrl) ? out.keyID : this.ref.keyUrl;
      return { type: 'azure-key-vault', kekId: this.kekId, keyUrl: keyVersionUrl, algorithm: 'RSA-OAEP-256', ciphertext: Buffer.from(out.result).toString('base64') };
    } catch (err) {
      throw mapAzureError(err, this.ref.keyUrl);
    }
  }

  canUnwrap(wrapped: WrappedKey): boolean {
    return wrapped.type === 'azure-key-vault' && wrapped.kekId === this.kekId;
  }

  async unwrap(wrapped: WrappedKey): Promise<Buffer> {
    if (wrapped.type !== 'azure-key-vault') throw new WrongKeyError(`key ${wrapped.kekId} is not wrapped by Azure Key Vault`);
    if (wrapped.kekId !== this.kekId) throw new WrongKeyError(`wrapped key ${wrapped.kekId} was sealed by another Key Vault key than ${this.kekId}`);
    // The wrap names the key version that sealed it; it must be the configured key (a stored wrap cannot redirect us to another vault).
    if (!wrapped.keyUrl.startsWith(this.ref.keyUrl.replace(/\/[0-9a-f]{32}$/, '')))
      throw new IntegrityError(`wrapped key ${wrapped.kekId} names key ${wrapped.keyUrl}, which is not ${this.ref.keyUrl}`);
    let out;
    try {
      out = await (await this.client(wrapped.keyUrl)).unwrapKey('RSA-OAEP-256', Buffer.from(wrapped.ciphertext, 'base64'));
    } catch (err) {
      throw mapAzureError(err, wrapped.keyUrl);
    }
    const dek = Buffer.from(out.result);
    if (dek.length !== DATA_KEY_SIZE) throw new IntegrityError(`wrapped key ${wrapped.kekId} does not hold a ${DATA_KEY_SIZE}-byte data key`);
    return dek;
  }
}

/** Key id of a Key Vault KEK: `azure-kv:` + the unversioned key URL (versions of one key are one KEK). */
export function azureKeyVaultKekId(keyUrl: string): string {
  return `azure-kv:${keyUrl.replace(/\/[0-9a-f]{32}$/, '')}`.slice(0, 256);
}

/** Maps Azure RestError (statusCode, code) to Tresor's typed errors. Exported for the unit tests. */
export function mapAzureError(err: unknown, keyUrl: string): Error {
  if (err instanceof UsageError) return err;
  const e = err as { statusCode?: number; code?: string; message?: string; name?: string };
  const code = e.code ?? '';
  const message = e.message ?? String(err);
  if (e.statusCode === 404 || code === 'KeyNotFound') return new NotFoundError(`Azure Key Vault key ${keyUrl} does not exist (or was deleted)`, { cause: err });
  if (e.statusCode === 401 || e.statusCode === 403 || code === 'Forbidden' || code === 'Unauthorized' || e.name === 'CredentialUnavailableError' || e.name === 'AuthenticationError')
    return new WrongKeyError(`access to Azure Key Vault key ${keyUrl} is denied or no Azure credential was found: ${message}`, { cause: err });
  if (e.statusCode === 400 || code === 'BadParameter')
    return new WrongKeyError(`Azure Key Vault key ${keyUrl} cannot open this wrapped key (wrong key, disabled key or corrupted wrap): ${message}`, { cause: err });
  return new IoError(`Azure Key Vault (${keyUrl}): ${code || e.statusCode || 'error'}: ${message}`, { cause: err });
}
