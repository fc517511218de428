import { DisableKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { describe, expect, it, onTestFinished } from 'vitest';
import { NotFoundError, WrongKeyError } from '@tresor/errors';
import { kmsKey } from '../../../test/support/infra.js';
import { AwsKmsKek } from './aws-kms-kek.js';
import { generateDataKey } from './data-key.js';
import { wrappedKeySchema } from './wrapped-key.js';
import type { AwsKmsWrap } from './wrapped-key.js';

async function key() {
  const k = await kmsKey();
  onTestFinished(() => k.cleanup());
  const kek = new AwsKmsKek({ keyId: k.keyArn, region: k.region, endpoint: k.endpoint, credentials: k.credentials });
  onTestFinished(() => kek.close());
  return { k, kek };
}

describe('AwsKmsKek (local-kms)', () => {
  it('wraps with KMS Encrypt and unwraps with Decrypt, binding the kekId as encryption context', async () => {
    const { kek } = await key();
    const dek = generateDataKey();
    const wrapped = (await kek.wrap(dek)) as AwsKmsWrap;
    expect(wrappedKeySchema.parse(JSON.parse(JSON.stringify(wrapped)))).toEqual(wrapped);
    expect(wrapped.kekId).toMatch(/^aws-kms:arn:aws:kms:/);
    expect(Buffer.from(wrapped.ciphertext, 'base64').includes(dek)).toBe(false);
    expect((await kek.unwrap(wrapped)).equals(dek)).toBe(true);

    const sealed = Buffer.from(wrapped.ciphertext, 'base64');
    sealed[sealed.length - 5]! ^= 1;
    await expect(kek.unwrap({ ...wrapped, ciphertext: sealed.toString('base64') })).rejects.toThrow(WrongKeyError);
  });

  it('another KMS key cannot open the wrap; a disabled key cannot either; a missing key is named', async () => {
    const a = await key();
    const b = await key();
    const wrapped = await a.kek.wrap(generateDataKey());
    expect(b.kek.canUnwrap(wrapped)).toBe(false);
    await expect(b.kek.unwrap({ ...wrapped, kekId: b.kek.kekId })).rejects.toThrow(WrongKeyError);

    const admin = new KMSClient({ endpoint: a.k.endpoint, region: a.k.region, credentials: a.k.credentials });
    onTestFinished(() => admin.destroy());
    await admin.send(new DisableKeyCommand({ KeyId: a.k.keyArn }));
    await expect(a.kek.unwrap(wrapped)).rejects.toThrow(/disabled/);

    const ghost = new AwsKmsKek({ keyId: a.k.keyArn.replace(/key\/.*/, 'key/00000000-0000-0000-0000-000000000000'), region: a.k.region, endpoint: a.k.endpoint, credentials: a.k.credentials });
    onTestFinished(() => ghost.close());
    await expect(ghost.wrap(generateDataKey())).rejects.toThrow(NotFoundError);
  });

  it('destroy (crypto-shredding) disables the key at once and schedules its deletion; a second destroy reports it gone', async () => {
    const { kek } = await key();
    const wrapped = await kek.wrap(generateDataKey());
    expect(await kek.destroy()).toBe(true);
    await expect(kek.unwrap(wrapped)).rejects.toThrow(WrongKeyError);
    expect(await kek.destroy()).toBe(false);
  });
});
