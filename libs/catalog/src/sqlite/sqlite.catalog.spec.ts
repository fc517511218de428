import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Entry } from '@tresor/archive';
import { IntegrityError, UnsupportedError } from '@tresor/errors';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeCatalogConformance, fileEntry, sampleBackup, sha } from '../conformance/catalog.conformance.js';
import { applicationId, latestSchemaVersion, migrations } from './schema.js';
import { findDataSql, SqliteCatalog } from './sqlite.catalog.js';

describeCatalogConformance('sqlite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tresor-catalog-'));
  const catalog = await SqliteCatalog.open(join(dir, 'catalog.db'));
  return { catalog, cleanup: () => rm(dir, { recursive: true, force: true }) };
});

describe('SqliteCatalog', () => {
  let dir: string;
  let file: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tresor-catalog-'));
    file = join(dir, 'nested', 'catalog.db');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates its file 0600 (WAL files too) and missing directories 0700 whatever the umask', async () => {
    const previous = process.umask(0);
    try {
      const catalog = await SqliteCatalog.open(file);
      await catalog.ensureSource('filesystem', '/k');
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      expect((await stat(`${file}-wal`)).mode & 0o777).toBe(0o600);
      expect((await stat(join(dir, 'nested'))).mode & 0o777).toBe(0o700);
      await catalog.close();
    } finally {
      process.umask(previous);
    }
  });

  it('keeps its data across close and reopen', async () => {
    const first = await SqliteCatalog.open(file);
    const source = await first.ensureSource('filesystem', '/k');
    await first.addBackup(sampleBackup({ id: 'b1', sourceId: source.id }), [fileEntry('f', 'b1')]);
    await first.close();
    const second = await SqliteCatalog.open(file);
    expect((await second.getBackup('b1'))?.id).toBe('b1');
    expect((await second.ensureSource('filesystem', '/k')).id).toBe(source.id);
    await second.close();
  });

  it('refuses a catalog written by a newer schema', async () => {
    await (await SqliteCatalog.open(file)).close();
    const db = new Database(file);
    db.prepare('UPDATE schema_version SET version = ?').run(latestSchemaVersion + 1);
    db.close();
    const opening = SqliteCatalog.open(file);
    await expect(opening).rejects.toBeInstanceOf(UnsupportedError);
    await expect(opening).rejects.toThrow(new RegExp(`schema version ${latestSchemaVersion + 1}.*upgrade tresor`));
  });

  it('refuses a SQLite file that is not a catalog, and a file that is not SQLite', async () => {
    const foreign = join(dir, 'foreign.db');
    const db = new Database(foreign);
    db.exec('CREATE TABLE t (x)');
    db.close();
    await expect(SqliteCatalog.open(foreign)).rejects.toThrow(/not a Tresor catalog/);
    const garbage = join(dir, 'garbage.db');
    await writeFile(garbage, Buffer.alloc(8192, 7));
    await expect(SqliteCatalog.open(garbage)).rejects.toBeInstanceOf(IntegrityError);
    expect((await readFile(garbage)).equals(Buffer.alloc(8192, 7))).toBe(true);
  });

  it('adds and iterates 100,000 entries', async () => {
    const catalog = await SqliteCatalog.open(file);
    const source = await catalog.ensureSource('filesystem', '/big');
    async function* many(): AsyncIterable<Entry> {
      for (let i = 0; i < 100_000; i++) yield fileEntry(`dir${i % 1000}/key-${i}.pem`, 'big', i);
    }
    await catalog.addBackup(sampleBackup({ id: 'big', sourceId: source.id }), many());
    let count = 0;
    for await (const entry of catalog.entries('big', { include: ['*.pem'] })) {
      if (entry.type === 'file') count++;
    }
    expect(count).toBe(100_000);
    await catalog.close();
  });

  it('uses the index of stored contents for content lookups', async () => {
    const catalog = await SqliteCatalog.open(file);
    await catalog.close();
    const db = new Database(file, { readonly: true });
    const plan = db.prepare(`EXPLAIN QUERY PLAN ${findDataSql}`).all('00', '[]') as { detail: string }[];
    db.close();
    expect(plan.map((row) => row.detail).join('\n')).toMatch(/USING INDEX entries_by_stored_sha256/);
  });

  it('brings a schema 1 catalog to the index of stored contents, finding the same data', async () => {
    await mkdir(join(dir, 'nested'));
    const db = new Database(file);
    db.exec(migrations[0]!.sql);
    db.exec('CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (1)');
    db.pragma(`application_id = ${applicationId}`);
    db.close();
    const first = await SqliteCatalog.open(file);
    expect(latestSchemaVersion).toBeGreaterThanOrEqual(2);
    const source = await first.ensureSource('filesystem', '/k');
    await first.addBackup(sampleBackup({ id: 'b1', sourceId: source.id }), [fileEntry('f', 'b1', 7)]);
    await first.addBackup(
      sampleBackup({ id: 'b2', sourceId: source.id, level: 'incremental', parentId: 'b1', dataBackupIds: ['b1', 'b2'] }),
      [fileEntry('f', 'b1', 7), fileEntry('g', 'b2', 8)],
    );
    expect(await first.findData(sha(1007), ['b1', 'b2'])).toEqual(fileEntry('f', 'b1', 7).data);
    expect(await first.findData(sha(1008), ['b2'])).toEqual(fileEntry('g', 'b2', 8).data);
    await first.close();
    const check = new Database(file, { readonly: true });
    const indexes = check.prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'entries'").pluck().all();
    const indexed = check.prepare('SELECT count(*) FROM entries INDEXED BY entries_by_stored_sha256 WHERE data_backup = backup_id').pluck().get();
    check.close();
    expect(indexes).toContain('entries_by_stored_sha256');
    expect(indexes).not.toContain('entries_by_sha256');
    // Only the two rows that stored their bytes are in the index; b2's copy of f is not.
    expect(indexed).toBe(2);
  });
});
