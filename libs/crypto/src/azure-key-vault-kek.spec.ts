import { constants, generateKeyPairSync, privateDecrypt, publicEncrypt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { IntegrityError, IoError, NotFoundError, UsageError, WrongKeyError } from '@tresor/errors';
import { AzureKeyVaultKek, azureKeyVaultKekId, mapAzureError } from './azure-key-vault-kek.js';
import type { AzureKeyVaultClientFactory } from './azure-key-vault-kek.js';
import { generateDataKey } from './data-key.js';
import { wrappedKeySchema } from './wrapped-key.js';
import type { AzureKeyVaultWrap } from './wrapped-key.js';

const KEY = 'https://tresor-test.vault.azure.net/keys/tresor-kek';
const VERSION = '0123456789abcdef0123456789abcdef';

/** A fake vault of our own port: one RSA key per version, RSA-OAEP-256 as Key Vault computes it. */
function fakeVault(options: { fail?: (op: string) => unknown } = {}) {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const calls: { op: string; url: string; algorithm: string }[] = [];
  const factory: AzureKeyVaultClientFactory = async (url) => ({
    wrapKey: async (algorithm, key) => {
      calls.push({ op: 'wrapKey', url, algorithm });
      const failure = options.fail?.('wrapKey');
      if (failure) throw failure;
      return { result: publicEncrypt({ key: pair.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, key), keyID: `${KEY}/${VERSION}` };
    },
    unwrapKey: async (algorithm, encryptedKey) => {
      calls.push({ op: 'unwrapKey', url, algorithm });
      const failure = options.fail?.('unwrapKey');
      if (failure) throw failure;
      try {
        return { result: privateDecrypt({ key: pair.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, encryptedKey) };
      } catch {
        throw Object.assign(new Error('Unable to unwrap'), { statusCode: 400, code: 'BadParameter' });
      }
    },
  });
  return { factory, calls };
}

describe('AzureKeyVaultKek (fake of its client port)', () => {
  it('wraps with wrapKey RSA-OAEP-256, records the versioned key URL, and unwraps with that version', async () => {
    const vault = fakeVault();
    const kek = new AzureKeyVaultKek({ keyUrl: KEY, client: vault.factory });
    expect(kek.kekId).toBe(`azure-kv:${KEY}`);
    const dek = generateDataKey();
    const wrapped = (await kek.wrap(dek)) as AzureKeyVaultWrap;
    expect(wrappedKeySchema.parse(JSON.parse(JSON.stringify(wrapped)))).toEqual(wrapped);
    expect(wrapped).toMatchObject({ type: 'azure-key-vault', kekId: `azure-kv:${KEY}`, keyUrl: `${KEY}/${VERSION}`, algorithm: 'RSA-OAEP-256' });
    expect(Buffer.from(wrapped.ciphertext, 'base64').includes(dek)).toBe(false);
    expect(kek.canUnwrap(wrapped)).toBe(true);
    expect((await kek.unwrap(wrapped)).equals(dek)).toBe(true);
    expect(vault.calls).toEqual([
      { op: 'wrapKey', url: KEY, algorithm: 'RSA-OAEP-256' },
      { op: 'unwrapKey', url: `${KEY}/${VERSION}`, algorithm: 'RSA-OAEP-256' },
    ]);
    // A versioned slot URL names the same KEK as the unversioned one.
    expect(azureKeyVaultKekId(`${KEY}/${VERSION}`)).toBe(kek.kekId);
  });

  it('refuses a wrap of another key, one pointing at another vault, a corrupted one and a malformed URL', async () => {
    const vault = fakeVault();
    const kek = new AzureKeyVaultKek({ keyUrl: KEY, client: vault.factory });
    const wrapped = (await kek.wrap(generateDataKey())) as AzureKeyVaultWrap;
    const other = new AzureKeyVaultKek({ keyUrl: 'https://other.vault.azure.net/keys/tresor-kek', client: vault.factory });
    expect(other.canUnwrap(wrapped)).toBe(false);
    await expect(other.unwrap(wrapped)).rejects.toThrow(WrongKeyError);
    await expect(kek.unwrap({ ...wrapped, keyUrl: `https://evil.vault.azure.net/keys/tresor-kek/${VERSION}` })).rejects.toThrow(IntegrityError);
    const sealed = Buffer.from(wrapped.ciphertext, 'base64');
    sealed[10]! ^= 1;
    await expect(kek.unwrap({ ...wrapped, ciphertext: sealed.toString('base64') })).rejects.toThrow(/cannot open this wrapped key/);
    expect(() => new AzureKeyVaultKek({ keyUrl: 'http://tresor-test.vault.azure.net/keys/k' })).toThrow(UsageError);
    await expect(kek.wrap(Buffer.alloc(16))).rejects.toThrow(UsageError);
  });

  it('maps Key Vault errors to typed errors', () => {
    expect(mapAzureError(Object.assign(new Error('gone'), { statusCode: 404, code: 'KeyNotFound' }), KEY)).toBeInstanceOf(NotFoundError);
    expect(mapAzureError(Object.assign(new Error('no'), { statusCode: 403, code: 'Forbidden' }), KEY)).toBeInstanceOf(WrongKeyError);
    expect(mapAzureError(Object.assign(new Error('no credential'), { name: 'CredentialUnavailableError' }), KEY).message).toMatch(/no Azure credential/);
    expect(mapAzureError(Object.assign(new Error('bad'), { statusCode: 400, code: 'BadParameter' }), KEY)).toBeInstanceOf(WrongKeyError);
    expect(mapAzureError(Object.assign(new Error('throttled'), { statusCode: 429, code: 'Throttled' }), KEY)).toBeInstanceOf(IoError);
  });

  it('propagates a failing vault as a typed error', async () => {
    const kek = new AzureKeyVaultKek({ keyUrl: KEY, client: fakeVault({ fail: () => Object.assign(new Error('denied'), { statusCode: 403 }) }).factory });
    await expect(kek.wrap(generateDataKey())).rejects.toThrow(/access to Azure Key Vault key .* is denied/);
  });
});
