import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { IoError, NotFoundError, UsageError, WrongKeyError } from '@tresor/errors';
import { generateDataKey } from './data-key.js';
import { gcpKmsAad, GcpKmsKek, mapGcpKmsError } from './gcp-kms-kek.js';
import type { GcpKmsPort } from './gcp-kms-kek.js';
import { wrappedKeySchema } from './wrapped-key.js';
import type { GcpKmsWrap } from './wrapped-key.js';

const KEY = 'projects/tresor-test/locations/europe-west1/keyRings/tresor/cryptoKeys/kek';

/** A fake Cloud KMS of our own port: AES-256-GCM with the request's AAD, as Cloud KMS binds it. */
function fakeKms(keyName = KEY) {
  const secret = randomBytes(32);
  const requests: { op: string; name: string; aad: string }[] = [];
  const port: GcpKmsPort = {
    encrypt: async ({ name, plaintext, additionalAuthenticatedData }) => {
      requests.push({ op: 'encrypt', name, aad: additionalAuthenticatedData.toString() });
      if (name !== keyName) throw Object.assign(new Error('5 NOT_FOUND'), { code: 5, details: `${name} not found` });
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', secret, iv).setAAD(additionalAuthenticatedData);
      const body = Buffer.concat([c.update(plaintext), c.final()]);
      return [{ name: `${name}/cryptoKeyVersions/3`, ciphertext: Buffer.concat([iv, c.getAuthTag(), body]) }];
    },
    decrypt: async ({ name, ciphertext, additionalAuthenticatedData }) => {
      requests.push({ op: 'decrypt', name, aad: additionalAuthenticatedData.toString() });
      try {
        const d = createDecipheriv('aes-256-gcm', secret, ciphertext.subarray(0, 12)).setAAD(additionalAuthenticatedData).setAuthTag(ciphertext.subarray(12, 28));
        return [{ plaintext: Buffer.concat([d.update(ciphertext.subarray(28)), d.final()]) }];
      } catch {
        throw Object.assign(new Error('3 INVALID_ARGUMENT'), { code: 3, details: 'Decryption failed: the ciphertext is invalid.' });
      }
    },
  };
  return { port, requests };
}

describe('GcpKmsKek (fake of its client port)', () => {
  it('encrypts with the kekId as additional authenticated data and records the key version used', async () => {
    const kms = fakeKms();
    const kek = new GcpKmsKek({ keyName: KEY, client: async () => kms.port });
    const dek = generateDataKey();
    const wrapped = (await kek.wrap(dek)) as GcpKmsWrap;
    expect(wrappedKeySchema.parse(JSON.parse(JSON.stringify(wrapped)))).toEqual(wrapped);
    expect(wrapped).toMatchObject({ type: 'gcp-kms', kekId: `gcp-kms:${KEY}`, keyVersion: `${KEY}/cryptoKeyVersions/3` });
    expect((await kek.unwrap(wrapped)).equals(dek)).toBe(true);
    expect(kms.requests).toEqual([
      { op: 'encrypt', name: KEY, aad: `tresor:key-wrap/v1:gcp-kms:${KEY}` },
      { op: 'decrypt', name: KEY, aad: `tresor:key-wrap/v1:gcp-kms:${KEY}` },
    ]);
    expect(gcpKmsAad(kek.kekId).toString()).toBe(`tresor:key-wrap/v1:${kek.kekId}`);
    await kek.close();
  });

  it('a ciphertext replayed under another kekId, a corrupted one, another key and a malformed name are refused', async () => {
    const kms = fakeKms();
    const kek = new GcpKmsKek({ keyName: KEY, client: async () => kms.port });
    const wrapped = (await kek.wrap(generateDataKey())) as GcpKmsWrap;
    const renamed = `${KEY.replace(/kek$/, 'other')}`;
    const other = new GcpKmsKek({ keyName: renamed, client: async () => kms.port });
    expect(other.canUnwrap(wrapped)).toBe(false);
    // Same key material, different kekId: the AAD no longer matches.
    await expect(other.unwrap({ ...wrapped, kekId: other.kekId })).rejects.toThrow(/cannot open this wrapped key/);
    const sealed = Buffer.from(wrapped.ciphertext, 'base64');
    sealed[sealed.length - 1]! ^= 1;
    await expect(kek.unwrap({ ...wrapped, ciphertext: sealed.toString('base64') })).rejects.toThrow(WrongKeyError);
    await expect(other.wrap(generateDataKey())).rejects.toThrow(NotFoundError);
    expect(() => new GcpKmsKek({ keyName: 'kek' })).toThrow(UsageError);
  });

  it('destroy schedules the destruction of every live key version, after which nothing decrypts', async () => {
    const kms = fakeKms();
    const states = new Map<string, string>([
      [`${KEY}/cryptoKeyVersions/1`, 'DESTROYED'],
      [`${KEY}/cryptoKeyVersions/2`, 'DISABLED'],
      [`${KEY}/cryptoKeyVersions/3`, 'ENABLED'],
    ]);
    const port: GcpKmsPort = {
      ...kms.port,
      decrypt: async (request) => {
        if (states.get(`${KEY}/cryptoKeyVersions/3`) !== 'ENABLED') throw Object.assign(new Error('9 FAILED_PRECONDITION'), { code: 9, details: 'version is DESTROY_SCHEDULED' });
        return kms.port.decrypt(request);
      },
      listCryptoKeyVersions: async ({ parent }) => {
        expect(parent).toBe(KEY);
        return [[...states].map(([name, state]) => ({ name, state }))];
      },
      destroyCryptoKeyVersion: async ({ name }) => {
        states.set(name, 'DESTROY_SCHEDULED');
        return [{ name, state: 'DESTROY_SCHEDULED' }];
      },
    };
    const kek = new GcpKmsKek({ keyName: KEY, client: async () => port });
    const wrapped = await kek.wrap(generateDataKey());
    expect(await kek.destroy()).toEqual([`${KEY}/cryptoKeyVersions/2`, `${KEY}/cryptoKeyVersions/3`]);
    await expect(kek.unwrap(wrapped)).rejects.toThrow(/disabled or destroyed/);
    expect(await kek.destroy()).toEqual([]);
  });

  it('maps gRPC status codes to typed errors', () => {
    const err = (code: number) => mapGcpKmsError(Object.assign(new Error(`${code}`), { code, details: 'x' }), KEY);
    expect(err(5)).toBeInstanceOf(NotFoundError);
    expect(err(3)).toBeInstanceOf(WrongKeyError);
    expect(err(9).message).toMatch(/disabled or destroyed/);
    expect(err(7).message).toMatch(/denied/);
    expect(err(16)).toBeInstanceOf(WrongKeyError);
    expect(err(14)).toBeInstanceOf(IoError);
  });
});
