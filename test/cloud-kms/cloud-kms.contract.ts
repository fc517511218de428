// Contract tests of the Azure Key Vault and Google Cloud KMS providers against the real services.
// Not part of `npm test` (no emulator of either runs here): `npm run test:cloud-kms`, with the
// variables of docs/testing.md § Cloud KMS contract tests.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AzureKeyVaultKek, GcpKmsKek, generateDataKey } from '@tresor/crypto';
import type { AzureKeyVaultWrap, GcpKmsWrap } from '@tresor/crypto';
import { NotFoundError, WrongKeyError } from '@tresor/errors';

const azureKey = process.env.TRESOR_TEST_AZURE_KEY_VAULT_KEY;
const gcpKey = process.env.TRESOR_TEST_GCP_KMS_KEY;

describe('cloud KMS contract', () => {
  it('is given at least one provider to test', () => {
    expect(azureKey || gcpKey, 'set TRESOR_TEST_AZURE_KEY_VAULT_KEY and/or TRESOR_TEST_GCP_KMS_KEY (docs/testing.md)').toBeTruthy();
  });

  describe.runIf(azureKey)('Azure Key Vault (real vault, DefaultAzureCredential)', () => {
    it('wraps with wrapKey RSA-OAEP-256 and unwraps with the recorded key version', async () => {
      const kek = new AzureKeyVaultKek({ keyUrl: azureKey! });
      const dek = generateDataKey();
      const wrapped = (await kek.wrap(dek)) as AzureKeyVaultWrap;
      expect(wrapped.keyUrl).toMatch(/\/keys\/[A-Za-z0-9-]+\/[0-9a-f]{32}$/);
      expect((await kek.unwrap(wrapped)).equals(dek)).toBe(true);
      const sealed = Buffer.from(wrapped.ciphertext, 'base64');
      sealed[20]! ^= 1;
      await expect(kek.unwrap({ ...wrapped, ciphertext: sealed.toString('base64') })).rejects.toThrow(WrongKeyError);
    });

    it('names a key that does not exist', async () => {
      const missing = new AzureKeyVaultKek({ keyUrl: azureKey!.replace(/\/keys\/.*$/, `/keys/tresor-missing-${randomBytes(6).toString('hex')}`) });
      await expect(missing.wrap(generateDataKey())).rejects.toThrow(NotFoundError);
    });
  });

  describe.runIf(gcpKey)('Google Cloud KMS (real key, Application Default Credentials)', () => {
    it('encrypts with the kekId as authenticated data; a replay under another kekId and a corrupted wrap fail', async () => {
      const kek = new GcpKmsKek({ keyName: gcpKey! });
      try {
        const dek = generateDataKey();
        const wrapped = (await kek.wrap(dek)) as GcpKmsWrap;
        expect(wrapped.keyVersion).toMatch(/\/cryptoKeyVersions\/\d+$/);
        expect((await kek.unwrap(wrapped)).equals(dek)).toBe(true);
        const sealed = Buffer.from(wrapped.ciphertext, 'base64');
        sealed[sealed.length - 3]! ^= 1;
        await expect(kek.unwrap({ ...wrapped, ciphertext: sealed.toString('base64') })).rejects.toThrow(WrongKeyError);
      } finally {
        await kek.close();
      }
    });

    it('names a key that does not exist (or that the identity may not use)', async () => {
      const missing = new GcpKmsKek({ keyName: gcpKey!.replace(/cryptoKeys\/.*$/, `cryptoKeys/tresor-missing-${randomBytes(6).toString('hex')}`) });
      try {
        const err = await missing.wrap(generateDataKey()).then(() => undefined, (e: unknown) => e);
        expect(err instanceof NotFoundError || err instanceof WrongKeyError).toBe(true);
      } finally {
        await missing.close();
      }
    });
  });
});
