import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Entry } from '@tresor/archive';
import { ConflictError, IntegrityError, IoError, NotFoundError } from '@tresor/errors';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BackupRecord, BackupStaging, EntryTableSummary } from '../catalog.js';
import { dirEntry, fileEntry, sampleBackup } from '../conformance/catalog.conformance.js';
import { SqliteCatalog } from './sqlite.catalog.js';

/** An entry table as the archive writes it, cut into chunks of `perChunk` whole lines. */
function table(entries: readonly Entry[], perChunk: number): { chunks: Buffer[]; summary: EntryTableSummary } {
  const lines = entries.map((entry) => `${JSON.stringify(entry)}\n`);
  const chunks: Buffer[] = [];
  for (let i = 0; i < lines.length; i += perChunk) chunks.push(Buffer.from(lines.slice(i, i + perChunk).join('')));
  const bytes = Buffer.concat(chunks);
  return { chunks, summary: { entryCount: lines.length, entriesRoot: createHash('sha256').update(bytes).digest('hex') } };
}

function stage(catalog: SqliteCatalog, backupId: string, inheritFrom?: string): BackupStaging {
  const staging = catalog.stageBackup(backupId, inheritFrom);
  if (!staging) throw new Error('a file catalog must offer staging');
  return staging;
}

describe('SqliteCatalog.stageBackup', () => {
  let dir: string;
  let catalog: SqliteCatalog;
  let sourceId: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tresor-staging-'));
    catalog = await SqliteCatalog.open(join(dir, 'catalog.db'));
    sourceId = (await catalog.ensureSource('filesystem', '/k')).id;
  });
  afterEach(async () => {
    await catalog.close();
    await rm(dir, { recursive: true, force: true });
  });

  const entriesOf = async (backupId: string): Promise<Entry[]> => {
    const found: Entry[] = [];
    for await (const entry of catalog.entries(backupId)) found.push(entry);
    return found;
  };

  it('adds the same backup and entries as addBackup, staged from table lines on a thread', async () => {
    const entries = (id: string): Entry[] => [
      dirEntry('a'),
      ...Array.from({ length: 500 }, (_, i) => fileEntry(`a/k${String(i).padStart(3, '0')}.pem`, id, i)),
      { ...dirEntry('b'), type: 'symlink', linkTarget: 'a' },
    ];
    await catalog.addBackup(sampleBackup({ id: 'direct', sourceId }), entries('direct'));
    const { chunks, summary } = table(entries('staged'), 37);
    const staging = stage(catalog, 'staged');
    for (const chunk of chunks) staging.add(chunk);
    await staging.commit(sampleBackup({ id: 'staged', sourceId }), summary);

    expect(await catalog.getBackup('staged')).toEqual(sampleBackup({ id: 'staged', sourceId }));
    const staged = await entriesOf('staged');
    expect(staged).toHaveLength(502);
    expect(staged).toEqual(entries('staged').sort((x, y) => (x.path < y.path ? -1 : 1)));
    expect((await entriesOf('direct')).map((e) => ({ ...e, data: e.data && { ...e.data, backupId: 'staged' } }))).toEqual(staged);
    expect(await catalog.findData(fileEntry('x', 'staged', 7).sha256!, ['staged'])).toEqual(fileEntry('x', 'staged', 7).data);
  });

  describe('with lines inherited from the parent', () => {
    const parentEntries = (): Entry[] => [
      dirEntry('a'),
      ...Array.from({ length: 60 }, (_, i) => fileEntry(`a/k${String(i).padStart(2, '0')}.pem`, 'p', i)),
    ];
    beforeEach(async () => {
      await catalog.addBackup(sampleBackup({ id: 'p', sourceId }), parentEntries());
    });

    it('copies the runs from the parent and indexes the other lines, the same entries as the table', async () => {
      // k10 changed, k20 deleted, k29a new: the runs are what is left, split where the parent has a row between.
      const child = parentEntries().filter((e) => e.path !== 'a/k20.pem');
      child[11] = { ...child[11]!, size: 999 };
      child.splice(30, 0, fileEntry('a/k29a.pem', 'c', 99));
      const { chunks, summary } = table(child, 1000);
      const staging = stage(catalog, 'c', 'p');
      staging.add(chunks[0]!, [
        { first: 0, count: 11 },
        { first: 12, count: 9 },
        { first: 21, count: 9 },
        { first: 31, count: 30 },
      ]);
      await staging.commit(sampleBackup({ id: 'c', sourceId, parentId: 'p' }), summary);
      expect(await entriesOf('c')).toEqual(child);
    });

    it('takes runs in every chunk: whole chunks, one-line runs, a run ending on a chunk\'s last line', async () => {
      const { chunks, summary } = table(parentEntries(), 7);
      const staging = stage(catalog, 'c', 'p');
      for (const [i, chunk] of chunks.entries()) {
        const lines = chunk.toString().split('\n').length - 1;
        // Chunk 1: lines 0, 1 and 2 as one-line runs, 3 staged, 4 to the end one run; others whole.
        const runs = i === 1 ? [{ first: 0, count: 1 }, { first: 1, count: 1 }, { first: 2, count: 1 }, { first: 4, count: lines - 4 }] : [{ first: 0, count: lines }];
        staging.add(chunk, runs);
      }
      await staging.commit(sampleBackup({ id: 'c', sourceId, parentId: 'p' }), summary);
      expect(await entriesOf('c')).toEqual(parentEntries());
    });

    it('refuses runs that overlap or are out of order, and a path both staged and inherited, naming it', async () => {
      const { chunks, summary } = table(parentEntries(), 1000);
      const overlapping = stage(catalog, 'c', 'p');
      overlapping.add(chunks[0]!, [{ first: 0, count: 5 }, { first: 3, count: 5 }]);
      const refused = overlapping.commit(sampleBackup({ id: 'c', sourceId, parentId: 'p' }), summary);
      await expect(refused).rejects.toBeInstanceOf(IntegrityError);
      await expect(refused).rejects.toThrow(/got inherited runs that overlap, are empty or out of order/);

      // A table with a/k03.pem twice: once staged, once inside an inherited run.
      const twice = [...parentEntries().slice(0, 5), parentEntries()[4]!];
      twice.splice(2, 0, parentEntries()[4]!);
      const doubled = table(twice, 1000);
      const staging = stage(catalog, 'c', 'p');
      staging.add(doubled.chunks[0]!, [{ first: 3, count: 4 }]);
      await expect(staging.commit(sampleBackup({ id: 'c', sourceId, parentId: 'p' }), doubled.summary)).rejects.toThrow(
        /entry "a\/k03.pem" appears twice in backup c/,
      );
      expect(await catalog.getBackup('c')).toBeUndefined();
    });

    it('refuses a run whose range holds parent rows the table does not have, leaving nothing visible', async () => {
      const child = parentEntries().filter((e) => e.path !== 'a/k20.pem');
      const { chunks, summary } = table(child, 1000);
      const staging = stage(catalog, 'c', 'p');
      staging.add(chunks[0]!, [{ first: 0, count: child.length }]);
      const refused = staging.commit(sampleBackup({ id: 'c', sourceId, parentId: 'p' }), summary);
      await expect(refused).rejects.toBeInstanceOf(IntegrityError);
      await expect(refused).rejects.toThrow(/inherited 60 entries from "a" to "a\/k59.pem" of parent backup p, but the catalog has 61/);
      expect(await catalog.getBackup('c')).toBeUndefined();
      await expect(entriesOf('c')).rejects.toBeInstanceOf(NotFoundError);
    });

    it('checks what it stages and the backup row, though not the copied rows, which were checked when inserted', async () => {
      const child = parentEntries();
      child[5] = { ...child[5]!, type: 'fifo' as Entry['type'] };
      const badLine = table(child, 1000);
      const staging = stage(catalog, 'c', 'p');
      staging.add(badLine.chunks[0]!, [{ first: 0, count: 5 }, { first: 6, count: 55 }]);
      const refusedLine = staging.commit(sampleBackup({ id: 'c', sourceId, parentId: 'p' }), badLine.summary);
      await expect(refusedLine).rejects.toThrow(/CHECK constraint failed/);

      // The constraints skipped for the copy are in force again for the backup row that follows it.
      const { chunks, summary } = table(parentEntries(), 1000);
      const again = stage(catalog, 'c', 'p');
      again.add(chunks[0]!, [{ first: 0, count: 61 }]);
      const unknownLevel = sampleBackup({ id: 'c', sourceId, parentId: 'p', level: 'weekly' as BackupRecord['level'] });
      await expect(again.commit(unknownLevel, summary)).rejects.toThrow(/CHECK constraint failed/);
      expect(await catalog.getBackup('c')).toBeUndefined();
      await expect(entriesOf('c')).rejects.toBeInstanceOf(NotFoundError);
    });

    it('refuses a commit whose parent is not the one inherited from', async () => {
      const { chunks, summary } = table(parentEntries(), 1000);
      const staging = stage(catalog, 'c', 'p');
      staging.add(chunks[0]!, [{ first: 0, count: 61 }]);
      await expect(staging.commit(sampleBackup({ id: 'c', sourceId, parentId: 'other' }), summary)).rejects.toThrow(
        /inherits from p, not from its parent other/,
      );
      expect(await catalog.getBackup('c')).toBeUndefined();
    });

    it('refuses inherited lines when no parent was named', async () => {
      const { chunks, summary } = table(parentEntries(), 1000);
      const staging = stage(catalog, 'c');
      staging.add(chunks[0]!, [{ first: 0, count: 61 }]);
      await expect(staging.commit(sampleBackup({ id: 'c', sourceId, parentId: 'p' }), summary)).rejects.toThrow(
        /inherited 61 entries .* of parent backup \(none\), but the catalog has 0/,
      );
    });
  });

  /** Stages the first chunk of `entries`' table (of `perChunk` lines) and commits it as backup b1. */
  const commitFirstChunk = (entries: Entry[], perChunk: number): Promise<void> => {
    const { chunks, summary } = table(entries, perChunk);
    const staging = stage(catalog, 'b1');
    staging.add(chunks[0]!);
    return staging.commit(sampleBackup({ id: 'b1', sourceId }), summary);
  };

  it('refuses lines that are not the archive table, leaving nothing visible', async () => {
    const committing = commitFirstChunk([fileEntry('a', 'b1', 1), fileEntry('b', 'b1', 2)], 1);
    await expect(committing).rejects.toBeInstanceOf(IntegrityError);
    await expect(committing).rejects.toThrow(/got 1 lines .* has 2/);
    expect(await catalog.getBackup('b1')).toBeUndefined();
  });

  it('refuses a path given twice, naming it', async () => {
    const committing = commitFirstChunk([fileEntry('a', 'b1', 1), fileEntry('a', 'b1', 2)], 2);
    await expect(committing).rejects.toThrow(IntegrityError);
    await expect(committing).rejects.toThrow('entry "a" appears twice in backup b1');
    expect(await catalog.listBackups()).toEqual([]);
  });

  it('makes the writer wait while more than 4 MiB of lines wait for the thread', async () => {
    const entries = Array.from({ length: 24_000 }, (_, i) => fileEntry(`k/${String(i).padStart(6, '0')}.pem`, 'b1', i));
    const { chunks, summary } = table(entries, 4_000);
    const staging = stage(catalog, 'b1');
    const waits = chunks.map((chunk) => staging.add(chunk));
    let settled = 0;
    waits.forEach((wait) => void wait.then(() => settled++));
    await Promise.resolve();
    expect(settled).toBeLessThan(chunks.length);
    await Promise.all(waits);
    await staging.commit(sampleBackup({ id: 'b1', sourceId }), summary);
    expect((await entriesOf('b1')).length).toBe(24_000);
  });

  it('refuses a line that is not JSON', async () => {
    const bytes = Buffer.from('{"path":\n');
    const staging = stage(catalog, 'b1');
    staging.add(bytes);
    const summary = { entryCount: 1, entriesRoot: createHash('sha256').update(bytes).digest('hex') };
    await expect(staging.commit(sampleBackup({ id: 'b1', sourceId }), summary)).rejects.toThrow(/not JSON/);
    expect(await catalog.getBackup('b1')).toBeUndefined();
  });

  it('gives addBackup errors for an existing id and an unknown source', async () => {
    await catalog.addBackup(sampleBackup({ id: 'b1', sourceId }), [fileEntry('a', 'b1')]);
    const { chunks, summary } = table([fileEntry('a', 'b1')], 1);
    const again = stage(catalog, 'b1');
    again.add(chunks[0]!);
    await expect(again.commit(sampleBackup({ id: 'b1', sourceId }), summary)).rejects.toBeInstanceOf(ConflictError);

    const orphan = stage(catalog, 'b2');
    const lines = table([fileEntry('a', 'b2')], 1);
    orphan.add(lines.chunks[0]!);
    await expect(orphan.commit(sampleBackup({ id: 'b2', sourceId: 'nope' }), lines.summary)).rejects.toBeInstanceOf(NotFoundError);
    expect((await catalog.listBackups()).map((b) => b.id)).toEqual(['b1']);
  });

  it('discards what was staged and takes nothing more', async () => {
    const { chunks, summary } = table([fileEntry('a', 'b1')], 1);
    const staging = stage(catalog, 'b1');
    staging.add(chunks[0]!);
    await staging.discard();
    await staging.discard();
    expect(() => staging.add(chunks[0]!)).toThrow(IoError);
    await expect(staging.commit(sampleBackup({ id: 'b1', sourceId }), summary)).rejects.toThrow(IoError);
    expect(await catalog.getBackup('b1')).toBeUndefined();
  });

  it('completes a commit that the catalog is closed during, and the backup is there on reopening', async () => {
    const { chunks, summary } = table([fileEntry('a', 'b1', 1), fileEntry('b', 'b1', 2)], 2);
    const staging = stage(catalog, 'b1');
    staging.add(chunks[0]!);
    const committing = staging.commit(sampleBackup({ id: 'b1', sourceId }), summary);
    await catalog.close();
    await committing;
    catalog = await SqliteCatalog.open(join(dir, 'catalog.db'));
    expect((await entriesOf('b1')).map((e) => e.path)).toEqual(['a', 'b']);
  });

  describe('prepared before the commit', () => {
    const entries = (id: string): Entry[] => Array.from({ length: 300 }, (_, i) => fileEntry(`k/${String(i).padStart(3, '0')}.pem`, id, i));
    /** A connection of its own that takes the write lock at once or fails (no busy wait). */
    const takesWriteLock = (): boolean => {
      const other = new Database(join(dir, 'catalog.db'), { timeout: 0 });
      try {
        other.exec('BEGIN IMMEDIATE');
        other.exec('ROLLBACK');
        return true;
      } catch (err) {
        if ((err as { code?: string }).code !== 'SQLITE_BUSY') throw err;
        return false;
      } finally {
        other.close();
      }
    };
    /** Stages the table of `entries('b1')` in chunks of 64 lines and prepares it. */
    const prepared = (): { staging: BackupStaging; summary: EntryTableSummary } => {
      const { chunks, summary } = table(entries('b1'), 64);
      const staging = stage(catalog, 'b1');
      for (const chunk of chunks) staging.add(chunk);
      staging.prepare(summary);
      return { staging, summary };
    };
    /** Waits until the thread holds the catalog's write lock (it takes it when prepare's message arrives). */
    const untilLocked = async (): Promise<void> => {
      for (let i = 0; i < 500 && takesWriteLock(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(takesWriteLock()).toBe(false);
    };

    it('puts the entries in place unseen, holding the write lock, and the commit makes them visible', async () => {
      const { staging, summary } = prepared();
      await untilLocked();
      // Readers see the catalog as it was: no backup, no content to deduplicate against.
      expect(await catalog.getBackup('b1')).toBeUndefined();
      expect(await catalog.findData(fileEntry('x', 'b1', 7).sha256!, ['b1'])).toBeUndefined();
      await staging.commit(sampleBackup({ id: 'b1', sourceId }), summary);
      expect(await entriesOf('b1')).toEqual(entries('b1'));
      expect(takesWriteLock()).toBe(true);
    });

    it('refuses at commit a table other than the lines, and another table than the one prepared', async () => {
      const { chunks, summary } = table(entries('b1'), 64);
      const wrong = stage(catalog, 'b1');
      for (const chunk of chunks) wrong.add(chunk);
      wrong.prepare({ ...summary, entryCount: 299 });
      await expect(wrong.commit(sampleBackup({ id: 'b1', sourceId }), summary)).rejects.toThrow(
        /got 300 lines \(SHA-256 [0-9a-f]{64}\), but its archive's entry table has 300/,
      );
      expect(await catalog.getBackup('b1')).toBeUndefined();

      const other = { entryCount: 300, entriesRoot: '0'.repeat(64) };
      const refused = prepared().staging.commit(sampleBackup({ id: 'b1', sourceId }), other);
      await expect(refused).rejects.toBeInstanceOf(IntegrityError);
      await expect(refused).rejects.toThrow(/got 300 lines \(SHA-256 [0-9a-f]{64}\), but its archive's entry table has 300 \(0{64}\)/);
      expect(await catalog.getBackup('b1')).toBeUndefined();
      expect(takesWriteLock()).toBe(true);
    });

    it('refuses lines that come after the table was complete, leaving nothing', async () => {
      const { chunks, summary } = table(entries('b1'), 200);
      const staging = stage(catalog, 'b1');
      staging.add(chunks[0]!);
      staging.prepare(summary);
      staging.add(chunks[1]!);
      await expect(staging.commit(sampleBackup({ id: 'b1', sourceId }), summary)).rejects.toThrow(/lines after the table was complete/);
      expect(await catalog.getBackup('b1')).toBeUndefined();
      expect(takesWriteLock()).toBe(true);
    });

    it('gives back the write lock and keeps nothing when discarded before the commit', async () => {
      const { staging, summary } = prepared();
      await untilLocked();
      await staging.discard();
      expect(takesWriteLock()).toBe(true);
      expect(() => staging.prepare(summary)).toThrow(IoError);
      await catalog.addBackup(sampleBackup({ id: 'b1', sourceId }), [fileEntry('a', 'b1')]);
      expect((await entriesOf('b1')).map((e) => e.path)).toEqual(['a']);
    });

    it('reports at commit a source that does not exist (foreign keys are checked when it commits)', async () => {
      const { staging, summary } = prepared();
      await expect(staging.commit(sampleBackup({ id: 'b1', sourceId: 'nope' }), summary)).rejects.toBeInstanceOf(NotFoundError);
      expect(await catalog.listBackups()).toEqual([]);
      expect(takesWriteLock()).toBe(true);
    });
  });

  it('is not offered by an in-memory catalog, which has no file for a second connection', async () => {
    const memory = await SqliteCatalog.open(':memory:');
    expect(memory.stageBackup('b1')).toBeUndefined();
    await memory.close();
  });
});
