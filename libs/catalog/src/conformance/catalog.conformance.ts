import type { Entry } from '@tresor/archive';
import { ConflictError, IntegrityError, NotFoundError } from '@tresor/errors';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BackupRecord, Catalog, EntryQuery } from '../catalog.js';

/** A catalog under test and how to dispose of it. */
export interface CatalogFixture {
  readonly catalog: Catalog;
  cleanup(): Promise<void>;
}

export interface CatalogConformanceOptions {
  /** Entries in the bulk add/iterate test. */
  readonly manyEntries?: number;
}

/** A distinct well-formed SHA-256 hex string per number. */
export const sha = (n: number): string => n.toString(16).padStart(64, '0');

/** A complete backup record for tests; override what the test is about. */
export function sampleBackup(
  overrides: Partial<BackupRecord> & Pick<BackupRecord, 'id' | 'sourceId'>,
): BackupRecord {
  return {
    level: 'full',
    parentId: null,
    createdAt: '2024-03-01T10:00:00.000Z',
    completedAt: '2024-03-01T10:00:05.000Z',
    tags: ['nightly'],
    archiveKey: `archives/${overrides.id}.tra`,
    archiveSha256: sha(1),
    archiveSize: 4096,
    manifestKey: `manifests/${overrides.id}.json`,
    manifestSha256: sha(2),
    dataBackupIds: [overrides.id],
    files: 2,
    dirs: 1,
    bytesIn: 300,
    bytesStored: 200,
    ...overrides,
  };
}

/** A file entry whose content lives in `backupId`'s archive. */
export function fileEntry(path: string, backupId: string, n = 1, overrides: Partial<Entry> = {}): Entry {
  return {
    path,
    type: 'file',
    mode: 0o600,
    uid: 1000,
    gid: 1000,
    mtimeNs: '1709287200123456789',
    size: 100 + n,
    ino: 4000 + n,
    sha256: sha(1000 + n),
    data: { backupId, offset: n * 1000, length: 50 + n, codec: 'zstd' },
    ...overrides,
  };
}

export function dirEntry(path: string): Entry {
  return { path, type: 'dir', mode: 0o700, uid: 0, gid: 0, mtimeNs: '1709287200000000000', size: 0, ino: 77 };
}

/**
 * The contract every Catalog adapter must meet, as one vitest suite. `make` returns an empty
 * catalog; each test gets its own.
 */
export function describeCatalogConformance(
  name: string,
  make: () => Promise<CatalogFixture>,
  options: CatalogConformanceOptions = {},
): void {
  const manyEntries = options.manyEntries ?? 20_000;

  describe(`Catalog conformance: ${name}`, () => {
    let fixture: CatalogFixture | undefined;
    const catalog = (): Catalog => {
      if (fixture === undefined) throw new Error('catalog fixture was not created');
      return fixture.catalog;
    };
    beforeEach(async () => {
      fixture = await make();
    });
    afterEach(async () => {
      await fixture?.catalog.close();
      await fixture?.cleanup();
    });

    const collect = async (backupId: string, query?: EntryQuery): Promise<Entry[]> => {
      const result: Entry[] = [];
      for await (const entry of catalog().entries(backupId, query)) result.push(entry);
      return result;
    };

    describe('sources', () => {
      it('creates a source once per kind and location', async () => {
        const a = await catalog().ensureSource('filesystem', '/etc/keys');
        const again = await catalog().ensureSource('filesystem', '/etc/keys');
        const b = await catalog().ensureSource('filesystem', '/srv/keys');
        const c = await catalog().ensureSource('vault', '/etc/keys');
        expect(again).toEqual(a);
        expect(new Set([a.id, b.id, c.id]).size).toBe(3);
        expect(a).toMatchObject({ kind: 'filesystem', location: '/etc/keys' });
        expect(Number.isNaN(Date.parse(a.createdAt))).toBe(false);
        expect(await catalog().getSource(a.id)).toEqual(a);
        expect(await catalog().getSource('no-such-source')).toBeUndefined();
        const listed = await catalog().listSources();
        expect(listed.map((s) => s.id).sort()).toEqual([a.id, b.id, c.id].sort());
      });
    });

    describe('backups', () => {
      it('round-trips a backup record and its entries, returned in path order', async () => {
        const source = await catalog().ensureSource('filesystem', '/etc/keys');
        const backup = sampleBackup({
          id: 'b1',
          sourceId: source.id,
          tags: ['a', 'b'],
          dataBackupIds: ['b0', 'b1'],
        });
        const entries: Entry[] = [
          fileEntry('tls/server.key', 'b1', 1),
          dirEntry('tls'),
          { ...dirEntry('tls/old'), mode: 0o755 },
          {
            path: 'tls/current',
            type: 'symlink',
            mode: 0o777,
            uid: 0,
            gid: 0,
            mtimeNs: '1',
            size: 0,
            ino: 9,
            linkTarget: 'server.key',
          },
          fileEntry('a b/ünïcode.pem', 'b0', 2),
          fileEntry('empty', 'b1', 3, {
            size: 0,
            sha256: sha(0),
            data: { backupId: 'b1', offset: 0, length: 0, codec: 'none' },
          }),
          { ...fileEntry('no-data-yet', 'b1', 4), data: undefined, sha256: undefined },
        ];
        await catalog().addBackup(backup, entries);
        expect(await catalog().getBackup('b1')).toEqual(backup);
        const stored = await collect('b1');
        expect(stored.map((e) => e.path)).toEqual([...entries.map((e) => e.path)].sort(byteOrder));
        for (const entry of entries) {
          expect(stored.find((e) => e.path === entry.path)).toStrictEqual(withoutUndefined(entry));
        }
        expect(await catalog().getBackup('missing')).toBeUndefined();
      });

      it('accepts entries from an async iterable', async () => {
        const source = await catalog().ensureSource('filesystem', '/k');
        async function* produce(): AsyncIterable<Entry> {
          yield dirEntry('d');
          await new Promise((resolve) => setTimeout(resolve, 1));
          yield fileEntry('d/f', 'b1');
        }
        await catalog().addBackup(sampleBackup({ id: 'b1', sourceId: source.id }), produce());
        expect((await collect('b1')).map((e) => e.path)).toEqual(['d', 'd/f']);
      });

      it('refuses a backup id that exists and keeps the original', async () => {
        const source = await catalog().ensureSource('filesystem', '/k');
        await catalog().addBackup(sampleBackup({ id: 'b1', sourceId: source.id }), [fileEntry('one', 'b1')]);
        const second = catalog().addBackup(sampleBackup({ id: 'b1', sourceId: source.id, tags: ['x'] }), [
          fileEntry('two', 'b1'),
        ]);
        await expect(second).rejects.toBeInstanceOf(ConflictError);
        expect((await catalog().getBackup('b1'))?.tags).toEqual(['nightly']);
        expect((await collect('b1')).map((e) => e.path)).toEqual(['one']);
      });

      it('refuses a backup of an unknown source', async () => {
        await expect(
          catalog().addBackup(sampleBackup({ id: 'b1', sourceId: 'nope' }), []),
        ).rejects.toBeInstanceOf(NotFoundError);
        expect(await catalog().listBackups()).toEqual([]);
      });

      it('leaves nothing visible when the entry stream fails midway', async () => {
        const source = await catalog().ensureSource('filesystem', '/k');
        async function* failing(): AsyncIterable<Entry> {
          for (let i = 0; i < 5000; i++) yield fileEntry(`f${i}`, 'b1', i);
          throw new Error('archive reader failed (simulated)');
        }
        await expect(
          catalog().addBackup(sampleBackup({ id: 'b1', sourceId: source.id }), failing()),
        ).rejects.toThrow(/simulated/);
        expect(await catalog().getBackup('b1')).toBeUndefined();
        expect(await catalog().listBackups()).toEqual([]);
        await expect(collect('b1')).rejects.toBeInstanceOf(NotFoundError);
        expect(await catalog().findData(sha(1001), ['b1'])).toBeUndefined();
        await catalog().addBackup(sampleBackup({ id: 'b1', sourceId: source.id }), [fileEntry('ok', 'b1')]);
        expect((await collect('b1')).map((e) => e.path)).toEqual(['ok']);
      });

      it('refuses a path given twice and stores nothing of that backup', async () => {
        const source = await catalog().ensureSource('filesystem', '/k');
        const add = catalog().addBackup(sampleBackup({ id: 'b1', sourceId: source.id }), [
          fileEntry('same', 'b1', 1),
          fileEntry('other', 'b1', 2),
          fileEntry('same', 'b1', 3),
        ]);
        await expect(add).rejects.toBeInstanceOf(IntegrityError);
        await expect(add).rejects.toThrow(/same/);
        expect(await catalog().getBackup('b1')).toBeUndefined();
      });

      it('lists backups oldest first, by source and point in time', async () => {
        const s1 = await catalog().ensureSource('filesystem', '/one');
        const s2 = await catalog().ensureSource('filesystem', '/two');
        const add = (id: string, sourceId: string, createdAt: string): Promise<void> =>
          catalog().addBackup(sampleBackup({ id, sourceId, createdAt }), []);
        await add('late', s1.id, '2024-03-03T00:00:00.000Z');
        await add('early', s1.id, '2024-03-01T00:00:00Z');
        await add('middle', s2.id, '2024-03-02T00:00:00.000Z');
        const ids = async (query?: Parameters<Catalog['listBackups']>[0]): Promise<string[]> =>
          (await catalog().listBackups(query)).map((b) => b.id);
        expect(await ids()).toEqual(['early', 'middle', 'late']);
        expect(await ids({ sourceId: s1.id })).toEqual(['early', 'late']);
        expect(await ids({ notAfter: new Date('2024-03-02T00:00:00.000Z') })).toEqual(['early', 'middle']);
        expect(await ids({ notAfter: new Date('2024-03-01T00:00:00.000Z') })).toEqual(['early']);
        expect(await ids({ sourceId: s2.id, notAfter: new Date('2024-03-01T12:00:00Z') })).toEqual([]);
      });

      it('deletes a backup with its entries, idempotently', async () => {
        const source = await catalog().ensureSource('filesystem', '/k');
        await catalog().addBackup(sampleBackup({ id: 'b1', sourceId: source.id }), [fileEntry('f', 'b1')]);
        await catalog().addBackup(sampleBackup({ id: 'b2', sourceId: source.id }), [fileEntry('f', 'b2')]);
        await catalog().deleteBackup('b1');
        await catalog().deleteBackup('b1');
        await catalog().deleteBackup('never-existed');
        expect(await catalog().getBackup('b1')).toBeUndefined();
        await expect(collect('b1')).rejects.toBeInstanceOf(NotFoundError);
        expect(await catalog().findData(sha(1001), ['b1', 'b2'])).toEqual({ ...fileEntry('f', 'b2').data });
        expect((await collect('b2')).map((e) => e.path)).toEqual(['f']);
      });

      it('clears everything', async () => {
        const source = await catalog().ensureSource('filesystem', '/k');
        await catalog().addBackup(sampleBackup({ id: 'b1', sourceId: source.id }), [fileEntry('f', 'b1')]);
        await catalog().clear();
        expect(await catalog().listSources()).toEqual([]);
        expect(await catalog().listBackups()).toEqual([]);
        expect(await catalog().findData(sha(1001), ['b1'])).toBeUndefined();
        await catalog().ensureSource('filesystem', '/k');
        await catalog().addBackup(sampleBackup({ id: 'b1', sourceId: source.id }), []);
      });
    });

    describe('entries', () => {
      const paths = [
        'ca',
        'ca/.hidden.key',
        'ca/root.pem',
        'tls',
        'tls/old',
        'tls/old/server.key',
        'tls/server.key',
        'tls/server.pem',
        'server.key',
      ];
      beforeEach(async () => {
        const source = await catalog().ensureSource('filesystem', '/k');
        const entries = paths.map((p, i) => (p.includes('.') ? fileEntry(p, 'b1', i) : dirEntry(p)));
        await catalog().addBackup(sampleBackup({ id: 'b1', sourceId: source.id }), entries.reverse());
      });
      const filtered = async (query: EntryQuery): Promise<string[]> =>
        (await collect('b1', query)).map((e) => e.path);

      it('filters with include patterns, slash-less ones matching the name at any depth', async () => {
        expect(await filtered({ include: ['*.key'] })).toEqual([
          'ca/.hidden.key',
          'server.key',
          'tls/old/server.key',
          'tls/server.key',
        ]);
        expect(await filtered({ include: ['tls/*.pem', '/server.key'] })).toEqual([
          'server.key',
          'tls/server.pem',
        ]);
      });

      it('filters with exclude patterns that take directories with their contents', async () => {
        expect(await filtered({ exclude: ['old', '.*'] })).toEqual([
          'ca',
          'ca/root.pem',
          'server.key',
          'tls',
          'tls/server.key',
          'tls/server.pem',
        ]);
        expect(await filtered({ include: ['tls'], exclude: ['*.pem'] })).toEqual([
          'tls',
          'tls/old',
          'tls/old/server.key',
          'tls/server.key',
        ]);
      });

      it('fails with NotFoundError for an unknown backup', async () => {
        await expect(collect('nope')).rejects.toBeInstanceOf(NotFoundError);
      });

      it('allows writes while entries are being read', async () => {
        const source = await catalog().ensureSource('filesystem', '/k');
        async function* copyOfB1(): AsyncIterable<Entry> {
          for await (const entry of catalog().entries('b1')) yield entry;
        }
        await catalog().addBackup(
          sampleBackup({ id: 'b2', sourceId: source.id, level: 'incremental', parentId: 'b1' }),
          copyOfB1(),
        );
        expect(await collect('b2')).toEqual(await collect('b1'));
      });
    });

    describe('findData', () => {
      it('finds content stored among the given backups only', async () => {
        const source = await catalog().ensureSource('filesystem', '/k');
        await catalog().addBackup(sampleBackup({ id: 'b1', sourceId: source.id }), [fileEntry('f', 'b1', 7)]);
        await catalog().addBackup(
          sampleBackup({ id: 'b2', sourceId: source.id, dataBackupIds: ['b1', 'b2'] }),
          [fileEntry('g', 'b1', 7)],
        );
        const expected = fileEntry('f', 'b1', 7).data;
        expect(await catalog().findData(sha(1007), ['b1'])).toEqual(expected);
        expect(await catalog().findData(sha(1007).toUpperCase(), ['b2', 'b1'])).toEqual(expected);
        expect(await catalog().findData(sha(1007), ['b2'])).toBeUndefined();
        expect(await catalog().findData(sha(1007), [])).toBeUndefined();
        expect(await catalog().findData(sha(9999), ['b1'])).toBeUndefined();
      });
    });

    it(`adds and iterates ${manyEntries} entries`, async () => {
      const source = await catalog().ensureSource('filesystem', '/big');
      function* many(): Iterable<Entry> {
        for (let i = 0; i < manyEntries; i++) yield fileEntry(`d${i % 100}/f${i}`, 'big', i);
      }
      await catalog().addBackup(sampleBackup({ id: 'big', sourceId: source.id }), many());
      let count = 0;
      let previous = '';
      for await (const entry of catalog().entries('big')) {
        expect(byteOrder(previous, entry.path)).toBe(-1);
        previous = entry.path;
        count++;
      }
      expect(count).toBe(manyEntries);
      expect(await catalog().findData(sha(1000 + manyEntries - 1), ['big'])).toEqual(
        fileEntry('x', 'big', manyEntries - 1).data,
      );
    });
  });
}

/** Byte order of UTF-8, which is how every adapter orders paths. */
function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

function withoutUndefined(entry: Entry): Entry {
  return Object.fromEntries(
    Object.entries(entry).filter(([, value]) => value !== undefined),
  ) as unknown as Entry;
}
