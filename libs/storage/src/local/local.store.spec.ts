import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, utimes, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ConflictError, IoError, NotFoundError, UnsupportedError, UsageError } from '@tresor/errors';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeObjectStoreConformance } from '../conformance/object-store.conformance.js';
import { failingStream } from '../conformance/stream-helpers.js';
import { parseLocalConfig } from './config.js';
import { LocalStore } from './local.store.js';

async function tempRoot(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'tresor-local-'));
}

describeObjectStoreConformance('local', async () => {
  const dir = await tempRoot();
  const store = await LocalStore.open(parseLocalConfig({ path: join(dir, 'objects') }));
  return { store, cleanup: () => rm(dir, { recursive: true, force: true }) };
}, {
  wrongCredentials: { notApplicable: 'a local directory takes no credentials: access is the file permissions of the tresor process' },
});

describe('LocalStore', () => {
  let dir: string;
  let root: string;
  beforeEach(async () => {
    dir = await tempRoot();
    root = join(dir, 'objects');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('hashes an object itself, on a thread past 4 MiB, as streaming it would, and knows a missing one', async () => {
    const store = await LocalStore.open({ path: root });
    const large = randomBytes(5 * 1024 * 1024 + 17);
    const small = randomBytes(1000);
    await store.put('archives/large.tra', large);
    await store.put('archives/small.tra', small);
    const expected = (bytes: Buffer) => ({ sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length });
    expect(await store.sha256('archives/large.tra')).toEqual(expected(large));
    expect(await store.sha256('archives/small.tra')).toEqual(expected(small));
    await expect(store.sha256('archives/missing.tra')).rejects.toBeInstanceOf(NotFoundError);
    await expect(store.sha256('archives')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('reads a range with one positional read, refusing a directory, a missing key and a bad range', async () => {
    const store = await LocalStore.open({ path: root });
    const bytes = randomBytes(3000);
    await store.put('archives/one.tra', bytes);
    expect((await store.readRange('archives/one.tra', 100, 2000)).equals(bytes.subarray(100, 2100))).toBe(true);
    expect(await store.readRange('archives/one.tra', 3000, 10)).toHaveLength(0);
    await expect(store.readRange('archives', 0, 1)).rejects.toBeInstanceOf(NotFoundError);
    await expect(store.readRange('archives/missing.tra', 0, 1)).rejects.toBeInstanceOf(NotFoundError);
    await expect(store.readRange('archives/one.tra', -1, 1)).rejects.toThrow(new UsageError('range offset -1 is not a non-negative integer'));
    await expect(store.readRange('archives/one.tra', 0, 1.5)).rejects.toThrow(new UsageError('range length 1.5 is not a non-negative integer'));
    expect((await readFile(join(root, 'archives/one.tra'))).equals(bytes)).toBe(true);
  });

  it('creates files 0600 and directories 0700 whatever the umask', async () => {
    const previous = process.umask(0o000);
    try {
      const store = await LocalStore.open({ path: root });
      await store.put('archives/2024/x.tra', Buffer.from('data'));
      expect((await stat(join(root, 'archives/2024/x.tra'))).mode & 0o777).toBe(0o600);
      for (const d of ['', '.tmp', 'archives', 'archives/2024']) {
        expect((await stat(join(root, d))).mode & 0o777).toBe(0o700);
      }
    } finally {
      process.umask(previous);
    }
  });

  it('stores a stream of many small chunks whole and in order (one write takes at most 1,024 of them)', async () => {
    const store = await LocalStore.open({ path: root });
    // 3,000 chunks of 1 to 600 bytes, then a 2 MiB one: more parts in one write than writev takes.
    const chunks = Array.from({ length: 3000 }, (_, i) => randomBytes(1 + ((i * 37) % 600)));
    chunks.push(randomBytes(2 * 1024 * 1024));
    const expected = Buffer.concat(chunks);
    const put = await store.put('archives/many.tra', Readable.from(chunks));
    expect(put).toEqual({ size: expected.length, sha256: createHash('sha256').update(expected).digest('hex') });
    expect((await readFile(join(root, 'archives/many.tra'))).equals(expected)).toBe(true);
  });

  it('removes stale temp files on open and keeps fresh ones of live writers', async () => {
    await LocalStore.open({ path: root });
    const stale = join(root, '.tmp', 'stale');
    const fresh = join(root, '.tmp', 'fresh');
    await writeFile(stale, 'partial');
    await writeFile(fresh, 'partial');
    const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
    await utimes(stale, twoHoursAgo, twoHoursAgo);
    await LocalStore.open({ path: root });
    expect(await readdir(join(root, '.tmp'))).toEqual(['fresh']);
  });

  it('cleans its temp file when a put fails and never lists the temp directory', async () => {
    const store = await LocalStore.open({ path: root });
    await expect(store.put('x.bin', failingStream(1024))).rejects.toThrow(/simulated/);
    expect(await readdir(join(root, '.tmp'))).toEqual([]);
    await writeFile(join(root, '.tmp', 'leftover'), 'x');
    expect(await collectKeys(store.list(''))).toEqual([]);
    expect(await collectKeys(store.list('.tmp/'))).toEqual([]);
  });

  it('reserves .tmp and ignores files whose names are not keys', async () => {
    const store = await LocalStore.open({ path: root });
    await expect(store.put('.tmp/x', Buffer.from('x'))).rejects.toThrow(/reserved/);
    await writeFile(join(root, 'not a key'), 'x');
    await store.put('ok', Buffer.from('x'));
    expect(await collectKeys(store.list(''))).toEqual(['ok']);
  });

  it('reports a key that collides with a directory of keys as a conflict', async () => {
    const store = await LocalStore.open({ path: root });
    await store.put('a/b', Buffer.from('x'));
    await expect(store.put('a', Buffer.from('y'))).rejects.toThrow(ConflictError);
    await expect(store.put('a/b/c', Buffer.from('y'))).rejects.toThrow(ConflictError);
    expect(await store.head('a')).toBeUndefined();
    await store.delete('a');
  });

  it('refuses a root that is a file', async () => {
    await mkdir(dir, { recursive: true });
    await writeFile(root, 'x');
    await expect(LocalStore.open({ path: root })).rejects.toThrow(IoError);
    await expect(LocalStore.open({ path: root })).rejects.toThrow(/is not a directory/);
  });

  it('refuses a retention request: local files cannot be made immutable', async () => {
    const store = await LocalStore.open({ path: root });
    await expect(
      store.put('x', Buffer.from('x'), { retainUntil: new Date(Date.now() + 60_000) }),
    ).rejects.toBeInstanceOf(UnsupportedError);
    expect(await store.head('x')).toBeUndefined();
  });

  it('names the store in its location', async () => {
    const store = await LocalStore.open({ path: root });
    expect(store.location).toBe(`local:${root}`);
    expect(store.capabilities).toEqual({ immutability: false, rangedReads: true, serverSideCopy: false });
  });
});

describe('parseLocalConfig', () => {
  it('accepts an absolute path and drops a trailing slash', () => {
    expect(parseLocalConfig({ path: '/srv/tresor/' })).toEqual({ path: '/srv/tresor' });
    expect(parseLocalConfig({ path: '/' })).toEqual({ path: '/' });
  });

  it.each([{ path: 'relative/dir' }, { path: '' }, {}, { path: 1 }, { path: '/x', extra: 1 }, null])(
    'rejects %j with UsageError',
    (input) => {
      expect(() => parseLocalConfig(input)).toThrow(UsageError);
    },
  );
});

async function collectKeys(items: AsyncIterable<{ key: string }>): Promise<string[]> {
  const keys: string[] = [];
  for await (const item of items) keys.push(item.key);
  return keys;
}
