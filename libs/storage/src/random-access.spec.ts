import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IntegrityError, NotFoundError } from '@tresor/errors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalStore } from './local/local.store.js';
import { randomAccess } from './random-access.js';

describe('randomAccess', () => {
  let dir: string;
  let store: LocalStore;
  const bytes = randomBytes(10_000);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tresor-ra-'));
    store = await LocalStore.open({ path: dir });
    await store.put('obj', bytes);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads exact ranges of the object', async () => {
    const object = await randomAccess(store, 'obj');
    expect(object.size).toBe(10_000);
    expect((await object.read(0, 16)).equals(bytes.subarray(0, 16))).toBe(true);
    expect((await object.read(9_990, 10)).equals(bytes.subarray(9_990))).toBe(true);
    expect(await object.read(10_000, 0)).toHaveLength(0);
  });

  it('treats a read past the end as a truncated object', async () => {
    const object = await randomAccess(store, 'obj');
    await expect(object.read(9_999, 2)).rejects.toBeInstanceOf(IntegrityError);
  });

  it('fails with NotFoundError for a missing object', async () => {
    await expect(randomAccess(store, 'missing')).rejects.toBeInstanceOf(NotFoundError);
  });
});
