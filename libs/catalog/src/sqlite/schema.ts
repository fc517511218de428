import type Database from 'better-sqlite3';
import { IntegrityError, UnsupportedError } from '@tresor/errors';

/** `PRAGMA application_id` of a Tresor catalog ('TRSR'), so a foreign SQLite file is refused. */
export const applicationId = 0x54525352;

interface Migration {
  readonly version: number;
  readonly sql: string;
}

/** Every schema change ever made, in order; a catalog is brought up to the last one on open. */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE sources (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        location TEXT NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (kind, location)
      );
      CREATE TABLE backups (
        id TEXT PRIMARY KEY,
        source_id TEXT NOT NULL REFERENCES sources (id),
        level TEXT NOT NULL CHECK (level IN ('full', 'differential', 'incremental')),
        parent_id TEXT,
        created_at TEXT NOT NULL,
        -- created_at as epoch milliseconds: ISO strings with and without fractions do not sort as text.
        created_ms INTEGER NOT NULL,
        completed_at TEXT NOT NULL,
        tags TEXT NOT NULL,
        archive_key TEXT NOT NULL,
        archive_sha256 TEXT NOT NULL,
        archive_size INTEGER NOT NULL,
        manifest_key TEXT NOT NULL,
        manifest_sha256 TEXT NOT NULL,
        data_backup_ids TEXT NOT NULL,
        files INTEGER NOT NULL,
        dirs INTEGER NOT NULL,
        bytes_in INTEGER NOT NULL,
        bytes_stored INTEGER NOT NULL
      );
      CREATE INDEX backups_by_source_time ON backups (source_id, created_ms);
      CREATE TABLE entries (
        backup_id TEXT NOT NULL REFERENCES backups (id) ON DELETE CASCADE,
        path TEXT NOT NULL CHECK (path <> ''),
        type TEXT NOT NULL CHECK (type IN ('file', 'dir', 'symlink')),
        mode INTEGER NOT NULL,
        uid INTEGER NOT NULL,
        gid INTEGER NOT NULL,
        mtime_ns TEXT NOT NULL,
        size INTEGER NOT NULL,
        ino INTEGER NOT NULL,
        sha256 TEXT,
        data_backup TEXT,
        data_offset INTEGER,
        data_length INTEGER,
        codec TEXT,
        link_target TEXT,
        PRIMARY KEY (backup_id, path),
        CHECK ((data_backup IS NULL) = (data_offset IS NULL)
           AND (data_backup IS NULL) = (data_length IS NULL)
           AND (data_backup IS NULL) = (codec IS NULL))
      ) WITHOUT ROWID;
      CREATE INDEX entries_by_sha256 ON entries (sha256) WHERE sha256 IS NOT NULL;
    `,
  },
  {
    // Content lookups (findData) only need the row of the backup that stored the bytes: every
    // later reference copies its data ref. Indexing only those rows keeps a no-change backup's
    // 100k copied rows out of a random-order index (1.1 s of a 1.3 s copy, issue 9).
    version: 2,
    sql: `
      DROP INDEX entries_by_sha256;
      CREATE INDEX entries_by_stored_sha256 ON entries (sha256) WHERE data_backup = backup_id;
    `,
  },
];

export const latestSchemaVersion = migrations[migrations.length - 1]!.version;

/** Brings the catalog at `file` to the latest schema, refusing foreign files and newer schemas. */
export function migrate(db: Database.Database, file: string): void {
  db.transaction(() => {
    const appId = db.pragma('application_id', { simple: true }) as number;
    const hasTables = db
      .prepare("SELECT count(*) FROM sqlite_schema WHERE type = 'table'")
      .pluck()
      .get() as number;
    if (appId !== applicationId && (appId !== 0 || hasTables > 0)) {
      throw new IntegrityError(`${file} is not a Tresor catalog (it is a different SQLite database)`);
    }
    db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
    const current =
      (db.prepare('SELECT max(version) FROM schema_version').pluck().get() as number | null) ?? 0;
    if (current > latestSchemaVersion) {
      throw new UnsupportedError(
        `catalog ${file} has schema version ${current}; this tresor reads up to ${latestSchemaVersion}: upgrade tresor`,
      );
    }
    for (const migration of migrations) {
      if (migration.version > current) db.exec(migration.sql);
    }
    if (current < latestSchemaVersion) {
      db.prepare('DELETE FROM schema_version').run();
      db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(latestSchemaVersion);
      db.pragma(`application_id = ${applicationId}`);
    }
  }).immediate();
}
