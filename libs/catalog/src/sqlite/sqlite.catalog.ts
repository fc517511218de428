import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, open } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { DataRef, Entry } from '@tresor/archive';
import { ConflictError, IntegrityError, IoError, NotFoundError, UsageError } from '@tresor/errors';
import Database from 'better-sqlite3';
import type { BackupQuery, BackupRecord, BackupStaging, Catalog, EntryQuery, EntryTableSummary, SourceRecord } from '../catalog.js';
import { compileEntryQuery } from '../entry-filter.js';
import type { BackupRow, EntryValues, SourceRow } from './rows.js';
import {
  backupFromRow,
  backupToRow,
  dataRefFromValues,
  ENTRY_VALUES_SOURCE,
  entryColumns,
  entryFromValues,
  entryValues,
  sourceFromRow,
} from './rows.js';
import { migrate } from './schema.js';
import { isSqliteError, toCatalogError } from './sqlite-errors.js';
import { inheritedMismatch, stagedMismatch, StagingThread } from './staging-thread.js';
import type { StagingFailure } from './staging-thread.js';

/** Entries staged per write transaction while an entry stream is consumed. */
const stagingBatchSize = 2000;
/** Entries read per query while listing: no cursor stays open across an await (see `entries`). */
const pageSize = 1000;
/** How long a writer waits for another process's transaction before reporting the catalog locked. */
const busyTimeoutMs = 10_000;

const entryColumnList = entryColumns.join(', ');

/** Where content is stored among some backups; `data_backup = backup_id` selects the partial index. */
export const findDataSql = `SELECT data_backup, data_offset, data_length, codec FROM entries
  WHERE sha256 = ? AND data_backup = backup_id AND data_backup IN (SELECT value FROM json_each(?))
  ORDER BY data_backup, data_offset LIMIT 1`;

/**
 * The catalog in one SQLite file (standalone mode). better-sqlite3 is synchronous; the methods are
 * async only to honour the port, which a MongoDB adapter implements with real I/O.
 */
export class SqliteCatalog implements Catalog {
  /** Staging threads not yet committed or discarded: close stops them. */
  private readonly stagings = new Set<StagingThread>();
  /** findData's statement, prepared on first use. */
  private findDataStatement: Database.Statement | undefined;

  private constructor(
    private readonly db: Database.Database,
    private readonly file: string,
  ) {}

  /** Opens (creating it 0600 if needed) the catalog at `file`, migrating it to the current schema. */
  static async open(file: string): Promise<SqliteCatalog> {
    const path = file === ':memory:' ? file : resolve(file);
    if (path !== ':memory:') await createPrivateFile(path);
    let db: Database.Database | undefined;
    try {
      db = new Database(path, { fileMustExist: path !== ':memory:' });
      db.pragma(`busy_timeout = ${busyTimeoutMs}`);
      db.pragma('journal_mode = WAL');
      db.pragma('foreign_keys = ON');
      db.pragma('synchronous = NORMAL');
      migrate(db, path);
      return new SqliteCatalog(db, path);
    } catch (err) {
      db?.close();
      throw toCatalogError(err, path, `cannot open catalog ${path}`);
    }
  }

  async ensureSource(kind: string, location: string): Promise<SourceRecord> {
    return this.run('cannot record source', () => {
      const id = sourceId(kind, location);
      this.db
        .prepare('INSERT OR IGNORE INTO sources (id, kind, location, created_at) VALUES (?, ?, ?, ?)')
        .run(id, kind, location, new Date().toISOString());
      return sourceFromRow(this.db.prepare('SELECT * FROM sources WHERE id = ?').get(id) as SourceRow);
    });
  }

  async getSource(id: string): Promise<SourceRecord | undefined> {
    return this.run('cannot read sources', () => {
      const row = this.db.prepare('SELECT * FROM sources WHERE id = ?').get(id) as SourceRow | undefined;
      return row && sourceFromRow(row);
    });
  }

  async listSources(): Promise<SourceRecord[]> {
    return this.run('cannot read sources', () =>
      (this.db.prepare('SELECT * FROM sources ORDER BY created_at, id').all() as SourceRow[]).map(
        sourceFromRow,
      ),
    );
  }

  /**
   * Entries are staged in a connection-private TEMP table batch by batch (the stream may be slow),
   * then copied in with the backup row in one transaction. A crash discards the temp table, so no
   * half-added backup is ever visible and nothing needs cleaning up.
   */
  async addBackup(backup: BackupRecord, entries: AsyncIterable<Entry> | Iterable<Entry>): Promise<void> {
    const createdMs = parseTime(backup.createdAt, `backup ${backup.id} createdAt`);
    if (this.backupExists(backup.id)) throw this.duplicate(backup.id);
    const staging = `staging_${randomBytes(8).toString('hex')}`;
    try {
      this.db.exec(createStagingSql(staging));
      await this.stage(staging, backup.id, entries);
      this.db
        .transaction(() => {
          this.db.prepare(insertBackupSql).run(backupToRow(backup, createdMs));
          this.db.prepare(copyStagedSql(staging)).run(backup.id);
        })
        .immediate();
    } catch (err) {
      throw this.addFailure(err, backup);
    } finally {
      if (this.db.open) this.db.exec(`DROP TABLE IF EXISTS temp.${staging}`);
    }
  }

  /**
   * Stages on a thread with its own connection to the catalog file (WAL lets it write while this
   * one reads the parent's entries); an in-memory catalog has no file to share, so it has none.
   */
  stageBackup(backupId: string, inheritFrom?: string): BackupStaging | undefined {
    if (this.file === ':memory:') return undefined;
    const staging = 'staging';
    const thread = new StagingThread({
      file: this.file,
      busyTimeoutMs,
      createStaging: createStagingSql(staging),
      insertStaged: insertStagedSql(staging),
      insertBackup: insertBackupSql,
      copyStaged: copyStagedSql(staging),
      copyInherited: copyInheritedSql,
      firstPathBetween: firstPathBetweenSql,
      parentId: inheritFrom,
      entryValues: ENTRY_VALUES_SOURCE,
    });
    this.stagings.add(thread);
    const release = () => this.stagings.delete(thread);
    return {
      add: (lines, inherited) => thread.add(lines, inherited),
      prepare: (table) => thread.prepare(backupId, table),
      commit: async (backup: BackupRecord, table: EntryTableSummary) => {
        // Out of close's reach from here: a thread stopped after its COMMIT would misreport the backup.
        release();
        try {
          const createdMs = parseTime(backup.createdAt, `backup ${backup.id} createdAt`);
          if (backup.id !== backupId) throw new UsageError(`staging for backup ${backupId} cannot commit backup ${backup.id}`);
          if (inheritFrom !== undefined && backup.parentId !== inheritFrom)
            throw new UsageError(`staging for backup ${backupId} inherits from ${inheritFrom}, not from its parent ${backup.parentId ?? '(none)'}`);
          if (this.backupExists(backup.id)) throw this.duplicate(backup.id);
          const reply = await thread.commit(backupToRow(backup, createdMs), table);
          if ('mismatch' in reply) throw stagedMismatch(backup.id, table, reply.mismatch);
          if ('inheritedMismatch' in reply) throw inheritedMismatch(backup.id, reply.inheritedMismatch);
          if ('failure' in reply) throw this.stagedFailure(reply.failure, backup);
        } finally {
          await thread.discard();
        }
      },
      discard: async () => {
        release();
        await thread.discard();
      },
    };
  }

  /** The error for a failed addBackup: the operator's terms for SQLite's constraint failures. */
  private addFailure(err: unknown, backup: BackupRecord): unknown {
    if (isSqliteError(err, 'SQLITE_CONSTRAINT_PRIMARYKEY')) return this.duplicate(backup.id);
    if (isSqliteError(err, 'SQLITE_CONSTRAINT_FOREIGNKEY')) {
      return new NotFoundError(`source ${backup.sourceId} of backup ${backup.id} not found in catalog ${this.file}`);
    }
    return toCatalogError(err, this.file, `cannot add backup ${backup.id}`);
  }

  /** A failure the staging thread reported, mapped as if it had happened on this connection. */
  private stagedFailure(failure: StagingFailure, backup: BackupRecord): unknown {
    const err =
      failure.name === 'TypeError'
        ? new TypeError(failure.message)
        : Object.assign(new Error(failure.message), { name: failure.name, code: failure.code });
    if (failure.path !== undefined) return this.addFailure(invalidEntry(err, failure.path, backup.id), backup);
    if (failure.malformed) return new IntegrityError(`catalog staging of backup ${backup.id} got ${failure.message}`);
    if (!failure.committing && failure.name === 'SyntaxError') {
      return new IntegrityError(`catalog staging of backup ${backup.id} got a line that is not JSON: ${failure.message}`);
    }
    return this.addFailure(err, backup);
  }

  async getBackup(id: string): Promise<BackupRecord | undefined> {
    return this.run('cannot read backups', () => {
      const row = this.db.prepare('SELECT * FROM backups WHERE id = ?').get(id) as BackupRow | undefined;
      return row && backupFromRow(row);
    });
  }

  async listBackups(query: BackupQuery = {}): Promise<BackupRecord[]> {
    const notAfter = query.notAfter === undefined ? null : query.notAfter.getTime();
    if (notAfter !== null && Number.isNaN(notAfter))
      throw new UsageError('backup query notAfter is not a valid date');
    return this.run('cannot list backups', () => {
      const rows = this.db
        .prepare(
          `SELECT * FROM backups
           WHERE (@sourceId IS NULL OR source_id = @sourceId) AND (@notAfter IS NULL OR created_ms <= @notAfter)
           ORDER BY created_ms, created_at, id`,
        )
        .all({ sourceId: query.sourceId ?? null, notAfter }) as BackupRow[];
      return rows.map(backupFromRow);
    });
  }

  /**
   * Reads page by page (keyset on path) instead of holding one `.iterate()` cursor: better-sqlite3
   * refuses every write on a connection while a cursor is open, and callers write (addBackup)
   * while they walk a parent backup's entries.
   */
  async *entries(backupId: string, query: EntryQuery = {}): AsyncIterable<Entry> {
    const keep = compileEntryQuery(query);
    if (!this.backupExists(backupId)) {
      throw new NotFoundError(`backup ${backupId} not found in catalog ${this.file}`);
    }
    const page = this.db
      .prepare(`SELECT ${entryColumnList} FROM entries WHERE backup_id = ? AND path > ? ORDER BY path LIMIT ${pageSize}`)
      .raw(true);
    for (let after = ''; ;) {
      const rows = this.run('cannot read entries', () => page.all(backupId, after) as EntryValues[]);
      for (const values of rows) {
        if (keep(values[0])) yield entryFromValues(values);
      }
      const last = rows[rows.length - 1];
      if (last === undefined || rows.length < pageSize) return;
      after = last[0];
    }
  }

  /**
   * Looks only at rows whose backup stored the content (the partial index of schema 2): a backup
   * referenced by a kept backup is never forgotten before it (runForget), so its own rows carry
   * every data ref into its archive.
   */
  async findData(sha256: string, amongBackupIds: readonly string[]): Promise<DataRef | undefined> {
    if (amongBackupIds.length === 0) return undefined;
    return this.run('cannot look up content', () => {
      // Prepared once: a backup asks for every new or changed file (preparing cost ~90 µs a call,
      // more than the lookup).
      this.findDataStatement ??= this.db.prepare(findDataSql).raw(true);
      const row = this.findDataStatement.get(sha256.toLowerCase(), JSON.stringify(amongBackupIds)) as
        [string, number, number, string] | undefined;
      return row && dataRefFromValues(...row);
    });
  }

  async deleteBackup(id: string): Promise<void> {
    this.run(`cannot delete backup ${id}`, () => {
      this.db.prepare('DELETE FROM backups WHERE id = ?').run(id);
    });
  }

  async clear(): Promise<void> {
    this.run('cannot clear catalog', () => {
      this.db
        .transaction(() => {
          this.db.exec('DELETE FROM entries; DELETE FROM backups; DELETE FROM sources;');
        })
        .immediate();
    });
  }

  async close(): Promise<void> {
    await Promise.all([...this.stagings].map((thread) => thread.discard()));
    this.stagings.clear();
    if (this.db.open) this.db.close();
  }

  /** Inserts the stream into the staging table, one transaction per batch. */
  private async stage(
    staging: string,
    backupId: string,
    entries: AsyncIterable<Entry> | Iterable<Entry>,
  ): Promise<void> {
    const insert = this.db.prepare(insertStagedSql(staging));
    const insertBatch = this.db.transaction((batch: Entry[]) => {
      for (const entry of batch) {
        try {
          insert.run(entryValues(entry));
        } catch (err) {
          throw invalidEntry(err, entry.path, backupId);
        }
      }
    });
    let batch: Entry[] = [];
    for await (const entry of entries) {
      batch.push(entry);
      if (batch.length >= stagingBatchSize) {
        insertBatch(batch);
        batch = [];
      }
    }
    insertBatch(batch);
  }

  private backupExists(id: string): boolean {
    return this.run(
      'cannot read backups',
      () => this.db.prepare('SELECT 1 FROM backups WHERE id = ?').get(id) !== undefined,
    );
  }

  private duplicate(id: string): ConflictError {
    return new ConflictError(`backup ${id} is already in catalog ${this.file}`);
  }

  private run<T>(doing: string, work: () => T): T {
    try {
      return work();
    } catch (err) {
      throw toCatalogError(err, this.file, doing);
    }
  }
}

/** A connection-private table that holds a backup's entries until they are copied in with its row. */
function createStagingSql(staging: string): string {
  return `CREATE TEMP TABLE ${staging} (${stagingColumns}) WITHOUT ROWID`;
}

function insertStagedSql(staging: string): string {
  return `INSERT INTO temp.${staging} (${entryColumnList}) VALUES (${entryColumns.map(() => '?').join(', ')})`;
}

function copyStagedSql(staging: string): string {
  return `INSERT INTO entries (backup_id, ${entryColumnList}) SELECT ?, ${entryColumnList} FROM temp.${staging} ORDER BY path`;
}

const copyInheritedSql = `INSERT INTO entries (backup_id, ${entryColumnList}) SELECT ?, ${entryColumnList} FROM entries WHERE backup_id = ? AND path >= ? AND path <= ?`;

const firstPathBetweenSql = 'SELECT path FROM entries WHERE backup_id = ? AND path >= ? AND path <= ? ORDER BY path LIMIT 1';

const stagingColumns = `
  path TEXT PRIMARY KEY CHECK (path <> ''),
  type TEXT NOT NULL CHECK (type IN ('file', 'dir', 'symlink')),
  mode INTEGER NOT NULL, uid INTEGER NOT NULL, gid INTEGER NOT NULL,
  mtime_ns TEXT NOT NULL CHECK (mtime_ns GLOB '[0-9]*' OR mtime_ns GLOB '-[0-9]*'),
  size INTEGER NOT NULL, ino INTEGER NOT NULL,
  sha256 TEXT, data_backup TEXT, data_offset INTEGER, data_length INTEGER, codec TEXT, link_target TEXT`;

const insertBackupSql = `
  INSERT INTO backups (id, source_id, level, parent_id, created_at, created_ms, completed_at, tags,
    archive_key, archive_sha256, archive_size, manifest_key, manifest_sha256, data_backup_ids,
    files, dirs, bytes_in, bytes_stored)
  VALUES (@id, @source_id, @level, @parent_id, @created_at, @created_ms, @completed_at, @tags,
    @archive_key, @archive_sha256, @archive_size, @manifest_key, @manifest_sha256, @data_backup_ids,
    @files, @dirs, @bytes_in, @bytes_stored)`;

/** Derived from kind and location so that a catalog rebuilt from storage gets the same ids. */
function sourceId(kind: string, location: string): string {
  return createHash('sha256').update(`${kind}\n${location}`).digest('hex').slice(0, 32);
}

function parseTime(value: string, what: string): number {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new UsageError(`${what} ${JSON.stringify(value)} is not an ISO-8601 time`);
  return ms;
}

function invalidEntry(err: unknown, path: string, backupId: string): unknown {
  if (isSqliteError(err, 'SQLITE_CONSTRAINT_PRIMARYKEY')) {
    return new IntegrityError(`entry ${JSON.stringify(path)} appears twice in backup ${backupId}`);
  }
  if (
    isSqliteError(err, 'SQLITE_CONSTRAINT') ||
    isSqliteError(err, 'SQLITE_MISMATCH') ||
    err instanceof TypeError
  ) {
    return new IntegrityError(
      `entry ${JSON.stringify(path)} of backup ${backupId} is invalid: ${(err as Error).message}`,
    );
  }
  return err;
}

/** Creates the catalog file 0600 (and its directory 0700) before SQLite opens it with its own mode. */
async function createPrivateFile(file: string): Promise<void> {
  try {
    const dir = dirname(file);
    const created = await mkdir(dir, { recursive: true, mode: 0o700 });
    if (created !== undefined) await chmod(dir, 0o700);
    const handle = await open(file, 'wx', 0o600).catch((err: unknown) => {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
      throw err;
    });
    if (handle !== undefined) {
      await handle.chmod(0o600);
      await handle.close();
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new IoError(`cannot create catalog ${file}: ${(err as Error).message.split(',')[0]} (${code})`, {
      cause: err,
    });
  }
}
