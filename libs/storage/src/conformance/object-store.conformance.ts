import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { ConflictError, IntegrityError, IoError, NotFoundError, UsageError } from '@tresor/errors';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { ObjectInfo, ObjectStore } from '../object-store.js';
import { randomAccess } from '../random-access.js';
import { failingStream, generatedStream, hashObject, hashStream, readAll, sha256 } from './stream-helpers.js';

const MiB = 1024 * 1024;

/** A store under test and how to dispose of it (delete the bucket, remove the directory). */
export interface ObjectStoreFixture {
  readonly store: ObjectStore;
  cleanup(): Promise<void>;
}

/** A store of the backend opened with credentials its server refuses, and the secrets that must not leak. */
export interface WrongCredentialsFixture {
  /** Opens the store; the suite expects opening, or its first requests, to fail. */
  open(): Promise<ObjectStore>;
  /** Texts that must appear nowhere in the error: the wrong secret, and the right one. */
  readonly secrets: readonly string[];
  cleanup(): Promise<void>;
}

/**
 * How a backend meets "credentials wrong -> a clear error naming the backend and endpoint, never the
 * secret": a factory of wrong credentials and the message expected, or the reason the case cannot
 * apply (stated, so that no backend leaves it out silently).
 */
export type WrongCredentialsCase =
  | {
      readonly make: () => Promise<WrongCredentialsFixture>;
      /** Names the backend and the endpoint, e.g. /S3 endpoint http:\/\/127\.0\.0\.1:\d+ refused the credentials/. */
      readonly message: RegExp;
    }
  | { readonly notApplicable: string };

export interface ConformanceOptions {
  /** Required of every backend: see WrongCredentialsCase. */
  readonly wrongCredentials: WrongCredentialsCase;
  /** Keys written for the listing test ("a few thousand" by default). */
  readonly manyKeys?: number;
  /** Size of the object streamed through put and get without buffering. */
  readonly largeObjectBytes?: number;
  /** Puts in flight at once while filling the listing test. */
  readonly concurrency?: number;
}

/**
 * The contract every ObjectStore backend must meet, as one vitest suite. `makeStore` must return
 * an empty store; the suite uses one store for all its tests, each under its own key prefix.
 */
export function describeObjectStoreConformance(
  name: string,
  makeStore: () => Promise<ObjectStoreFixture>,
  options: ConformanceOptions,
): void {
  const manyKeys = options.manyKeys ?? 3000;
  const largeObjectBytes = options.largeObjectBytes ?? 64 * MiB;
  const concurrency = options.concurrency ?? 16;

  describe(`ObjectStore conformance: ${name}`, () => {
    let fixture: ObjectStoreFixture | undefined;
    const store = (): ObjectStore => {
      if (fixture === undefined) throw new Error('store fixture was not created');
      return fixture.store;
    };

    beforeAll(async () => {
      fixture = await makeStore();
    });
    afterAll(async () => {
      await fixture?.cleanup();
    });

    it('names its location and capabilities', () => {
      expect(store().location).toMatch(/\S/);
      expect(typeof store().capabilities.rangedReads).toBe('boolean');
    });

    it.each([
      ['0 B', 0],
      ['1 B', 1],
      ['5 MiB + 1', 5 * MiB + 1],
    ])('round-trips a %s object given as bytes and as a stream', async (_label, size) => {
      const bytes = randomBytes(size);
      for (const [key, body] of [
        [`roundtrip/${size}.bytes`, bytes],
        [`roundtrip/${size}.stream`, Readable.from([bytes])],
      ] as const) {
        const result = await store().put(key, body);
        expect(result).toEqual({ size, sha256: sha256(bytes) });
        expect(await store().head(key)).toMatchObject({ key, size });
        expect((await readAll(await store().get(key))).equals(bytes)).toBe(true);
      }
    });

    it('streams a large object through put and get without holding it', async () => {
      const key = 'large/object.bin';
      const source = generatedStream(largeObjectBytes);
      const result = await store().put(key, source.stream);
      expect(result).toEqual({ size: largeObjectBytes, sha256: source.sha256() });
      expect(await store().head(key)).toMatchObject({ size: largeObjectBytes });
      expect(await hashStream(await store().get(key))).toEqual(result);
      // The store's own hash where it has one (ObjectStore.sha256), else the stream's: the same answer.
      expect(await hashObject(store(), key)).toEqual(result);
      await expect(hashObject(store(), 'large/missing.bin')).rejects.toBeInstanceOf(NotFoundError);
    }, 240_000);

    it('reads ranges, cutting a range that reaches past the end', async () => {
      const key = 'range/object.bin';
      const bytes = randomBytes(1000);
      await store().put(key, bytes);
      const read = async (offset: number, length?: number): Promise<Buffer> =>
        readAll(await store().get(key, length === undefined ? { offset } : { offset, length }));
      expect((await read(0, 10)).equals(bytes.subarray(0, 10))).toBe(true);
      expect((await read(500)).equals(bytes.subarray(500))).toBe(true);
      expect((await read(123, 456)).equals(bytes.subarray(123, 579))).toBe(true);
      expect((await read(990, 100)).equals(bytes.subarray(990))).toBe(true);
      expect(await read(0, 0)).toHaveLength(0);
      expect(await read(1000)).toHaveLength(0);
      await expect(store().get(key, { offset: 1001 })).rejects.toBeInstanceOf(UsageError);
      await expect(store().get(key, { offset: -1 })).rejects.toBeInstanceOf(UsageError);
      await expect(store().get('range/missing.bin', { offset: 0, length: 1 })).rejects.toBeInstanceOf(
        NotFoundError,
      );
    });

    it('reads the same bytes through randomAccess as through get (readRange where the store has it)', async () => {
      const key = 'range/random-access.bin';
      const bytes = randomBytes(3 * MiB + 7);
      await store().put(key, bytes);
      const object = await randomAccess(store(), key);
      expect(object.size).toBe(bytes.length);
      expect((await object.read(0, 10)).equals(bytes.subarray(0, 10))).toBe(true);
      expect((await object.read(MiB - 3, 2 * MiB)).equals(bytes.subarray(MiB - 3, 3 * MiB - 3))).toBe(true);
      expect((await object.read(bytes.length - 7, 7)).equals(bytes.subarray(-7))).toBe(true);
      await expect(object.read(bytes.length - 7, 8)).rejects.toBeInstanceOf(IntegrityError);
      const readRange = store().readRange?.bind(store());
      if (readRange) {
        expect((await readRange(key, 5, 1000)).equals(bytes.subarray(5, 1005))).toBe(true);
        expect((await readRange(key, bytes.length - 2, 10)).equals(bytes.subarray(-2))).toBe(true);
        await expect(readRange('range/missing.bin', 0, 1)).rejects.toBeInstanceOf(NotFoundError);
      }
      await expect(randomAccess(store(), 'range/missing.bin')).rejects.toBeInstanceOf(NotFoundError);
    });

    it('reports a missing object as undefined from head and NotFoundError from get', async () => {
      expect(await store().head('missing/object.bin')).toBeUndefined();
      const failure = store().get('missing/object.bin');
      await expect(failure).rejects.toBeInstanceOf(NotFoundError);
      await expect(failure).rejects.toThrow(/missing\/object\.bin/);
    });

    it('refuses to replace an existing object and keeps the original', async () => {
      const key = 'conflict/object.bin';
      const original = randomBytes(100);
      await store().put(key, original);
      await expect(store().put(key, randomBytes(100))).rejects.toBeInstanceOf(ConflictError);
      await expect(store().put(key, Readable.from([randomBytes(5)]))).rejects.toBeInstanceOf(ConflictError);
      expect((await readAll(await store().get(key))).equals(original)).toBe(true);
    });

    it('lets exactly one of several racing writers of one key win', async () => {
      const key = 'race/object.bin';
      const bodies = Array.from({ length: 8 }, () => randomBytes(256 * 1024));
      const outcomes = await Promise.allSettled(
        bodies.map((body) => store().put(key, Readable.from([body]))),
      );
      const winners = outcomes.flatMap((outcome, i) => (outcome.status === 'fulfilled' ? [i] : []));
      expect(winners).toHaveLength(1);
      for (const outcome of outcomes) {
        if (outcome.status === 'rejected') expect(outcome.reason).toBeInstanceOf(ConflictError);
      }
      const stored = await readAll(await store().get(key));
      expect(stored.equals(bodies[winners[0]!]!)).toBe(true);
    });

    it('stores concurrent writes of different keys', async () => {
      const bodies = Array.from({ length: 32 }, (_, i) => randomBytes(1000 + i));
      await Promise.all(bodies.map((body, i) => store().put(`parallel/${i}.bin`, Readable.from([body]))));
      for (const [i, body] of bodies.entries()) {
        expect((await readAll(await store().get(`parallel/${i}.bin`))).equals(body)).toBe(true);
      }
    });

    it(`lists ${manyKeys} keys under a prefix in lexicographic order`, async () => {
      // Names chosen so that directory-by-directory order differs from key order.
      const tricky = ['a-b', 'a.b', 'a/x', 'a/y/z', 'a0', 'A', 'Z/z', '_', 'b/c/d/e', 'ab/-', 'ab/0'];
      const generated = Array.from(
        { length: Math.max(0, manyKeys - tricky.length) },
        (_, i) => `k/${(i % 7).toString()}/${(i * 7919).toString(36)}`,
      );
      const keys = [...tricky, ...generated].map((k) => `list/${k}`);
      await putAll(store(), keys, concurrency);
      await store().put('listx/outside', Buffer.from('x'));
      await store().put('lis', Buffer.from('x'));

      const listed = await collect(store().list('list/'));
      expect(listed.map((info) => info.key)).toEqual([...keys].sort(compareKeys));
      expect(listed.find((info) => info.key === 'list/a-b')).toMatchObject({ size: 'list/a-b'.length });

      const partial = await collect(store().list('list/a'));
      expect(partial.map((info) => info.key)).toEqual(
        ['list/a-b', 'list/a.b', 'list/a/x', 'list/a/y/z', 'list/a0', 'list/ab/-', 'list/ab/0'].sort(
          compareKeys,
        ),
      );
      expect(await collect(store().list('list/nothing-here'))).toEqual([]);
      expect(await collect(store().list('nothing/'))).toEqual([]);

      const everything = (await collect(store().list(''))).map((info) => info.key);
      expect(everything).toEqual([...everything].sort(compareKeys));
      expect(everything).toContain('lis');
      expect(everything).toContain('listx/outside');
      // Thousands of round trips: on a loaded 2-core CI machine this ran past the default minute.
    }, 240_000);

    it('leaves no object behind when the body stream fails midway', async () => {
      const key = 'failing/object.bin';
      await expect(store().put(key, failingStream(2 * MiB))).rejects.toThrow();
      expect(await store().head(key)).toBeUndefined();
      expect(await collect(store().list('failing/'))).toEqual([]);
      const retry = randomBytes(10);
      await store().put(key, retry);
      expect((await readAll(await store().get(key))).equals(retry)).toBe(true);
    });

    it('stores nothing when the content does not match expectedSha256', async () => {
      const key = 'expected/object.bin';
      const bytes = randomBytes(4096);
      const wrong = sha256(Buffer.from('something else'));
      await expect(
        store().put(key, Readable.from([bytes]), { expectedSha256: wrong }),
      ).rejects.toBeInstanceOf(IntegrityError);
      expect(await store().head(key)).toBeUndefined();
      expect(await collect(store().list('expected/'))).toEqual([]);
      const result = await store().put(key, bytes, { expectedSha256: sha256(bytes) });
      expect(result.sha256).toBe(sha256(bytes));
    });

    it('detects a body corrupted on the way by its hash: one flipped byte in the last part stores nothing', async () => {
      const key = 'corrupt/object.bin';
      const original = randomBytes(5 * MiB + 1);
      const corrupted = Buffer.from(original);
      corrupted[corrupted.length - 2]! ^= 0x01;
      // Sent in 1 MiB chunks, as a download from another location would arrive.
      const chunks = Array.from({ length: Math.ceil(corrupted.length / MiB) }, (_, i) =>
        corrupted.subarray(i * MiB, (i + 1) * MiB),
      );
      const failure = store().put(key, Readable.from(chunks), { expectedSha256: sha256(original) });
      await expect(failure).rejects.toBeInstanceOf(IntegrityError);
      await expect(failure).rejects.toThrow(/corrupt\/object\.bin/);
      expect(await store().head(key)).toBeUndefined();
      expect(await collect(store().list('corrupt/'))).toEqual([]);
      // What is read back hashes to what the put reported, so a reader can detect a corrupt copy.
      const stored = await store().put(key, Readable.from([original]), { expectedSha256: sha256(original) });
      expect(await hashStream(await store().get(key))).toEqual(stored);
      expect(stored.sha256).not.toBe(sha256(corrupted));
    });

    const wrongCredentials = options.wrongCredentials;
    if ('notApplicable' in wrongCredentials) {
      it(`has no wrong-credentials case: ${wrongCredentials.notApplicable}`, () => {
        expect(wrongCredentials.notApplicable).toMatch(/\S{3,}/);
      });
    } else {
      it('refuses wrong credentials with an IoError naming the backend and endpoint, never the secret', async () => {
        const wrong = await wrongCredentials.make();
        onTestFinished(() => wrong.cleanup());
        const error = await (async () => {
          const refused = await wrong.open();
          try {
            await refused.head('probe/object.bin');
            await collect(refused.list('probe/'));
            await refused.put('probe/object.bin', Buffer.from('x'));
          } finally {
            await refused.close?.();
          }
        })().then(
          () => undefined,
          (err: unknown) => err,
        );
        expect(error).toBeInstanceOf(IoError);
        const { message, stack } = error as Error;
        expect(message).toMatch(wrongCredentials.message);
        for (const secret of wrong.secrets) {
          expect(secret.length).toBeGreaterThan(0);
          expect(message).not.toContain(secret);
          expect(String(stack)).not.toContain(secret);
        }
      });
    }

    it('deletes idempotently', async () => {
      const key = 'delete/object.bin';
      await store().put(key, Buffer.from('bye'));
      await store().delete(key);
      expect(await store().head(key)).toBeUndefined();
      await expect(store().get(key)).rejects.toBeInstanceOf(NotFoundError);
      await store().delete(key);
      await store().delete('delete/never-existed.bin');
      await store().put(key, Buffer.from('again'));
      expect((await readAll(await store().get(key))).toString()).toBe('again');
    });

    it.each([
      '',
      '/absolute',
      'trailing/',
      'double//slash',
      '.',
      '..',
      'a/../b',
      'a/./b',
      'back\\slash',
      'space here',
      'ümlaut',
      'nul\0byte',
      'new\nline',
      'x'.repeat(2000),
    ])('rejects the invalid key %j with UsageError', async (key) => {
      await expect(store().put(key, Buffer.from('x'))).rejects.toBeInstanceOf(UsageError);
      await expect(store().get(key)).rejects.toBeInstanceOf(UsageError);
      await expect(store().head(key)).rejects.toBeInstanceOf(UsageError);
      await expect(store().delete(key)).rejects.toBeInstanceOf(UsageError);
    });
  });
}

async function putAll(store: ObjectStore, keys: readonly string[], concurrency: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < keys.length; i = next++) {
      const key = keys[i]!;
      await store.put(key, Buffer.from(key));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

async function collect(items: AsyncIterable<ObjectInfo>): Promise<ObjectInfo[]> {
  const result: ObjectInfo[] = [];
  for await (const item of items) result.push(item);
  return result;
}

/** Byte order of keys (all ASCII), which is what "lexicographic" means for every backend. */
function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
