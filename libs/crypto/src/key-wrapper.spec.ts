import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { WrongKeyError } from '@tresor/errors';
import { generateDataKey } from './data-key.js';
import { unwrapDataKey } from './key-wrapper.js';
import { PassphraseKek, passphraseUnwrapper } from './passphrase-kek.js';
import type { KdfParams, WrappedKey } from './wrapped-key.js';

const params = (): KdfParams => ({
  alg: 'argon2id',
  memoryKiB: 19 * 1024,
  iterations: 2,
  parallelism: 1,
  salt: randomBytes(16).toString('base64'),
});

describe('unwrapDataKey', () => {
  const dek = generateDataKey();
  let keys: WrappedKey[];
  beforeAll(async () => {
    const a = await PassphraseKek.derive('alpha', params());
    const b = await PassphraseKek.derive('bravo', params());
    keys = [await a.wrap(dek), await b.wrap(dek)];
  });

  it('opens whichever wrapped key the unwrappers can open', async () => {
    expect((await unwrapDataKey(keys, [passphraseUnwrapper('bravo')])).equals(dek)).toBe(true);
  });

  it('fails with WrongKeyError when nothing opens', async () => {
    await expect(unwrapDataKey(keys, [passphraseUnwrapper('charlie')])).rejects.toThrow(WrongKeyError);
    await expect(unwrapDataKey(keys, [])).rejects.toThrow(/none of the keys supplied matches/);
  });
});
