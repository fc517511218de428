import { chmod, mkdir, open } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { IoError, UnsupportedError } from '@tresor/errors';
import type { Alert } from '../alert.js';
import { alertSchema, levelRank } from '../alert.js';
import type { AlertHistory, AlertQuery } from './history.js';
import { DEFAULT_QUERY_LIMIT } from './history.js';

/** The alert history file's name inside a standalone repository directory. */
export const ALERTS_DB_FILE = 'alerts.db';
/** `PRAGMA application_id` of an alert history ('TRSA'), so another SQLite file is refused. */
const applicationId = 0x54525341;
const schemaVersion = 1;
/** How long a writer waits for another process's transaction before reporting the file locked. */
const busyTimeoutMs = 10_000;

interface Row {
  doc: string;
}

/**
 * Alert history in its own SQLite file next to the catalog (standalone mode): alerts are written
 * while backups run, and a separate file keeps them out of the catalog's transactions and schema.
 */
export class SqliteAlertHistory implements AlertHistory {
  private constructor(
    private readonly db: Database.Database,
    private readonly file: string,
  ) {}

  /** Opens (creating it 0600 if needed) the history at `file`. */
  static async open(file: string): Promise<SqliteAlertHistory> {
    const path = file === ':memory:' ? file : resolve(file);
    if (path !== ':memory:') {
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      // Create it 0600 before SQLite does, so it never exists readable by others.
      await (await open(path, 'a', 0o600)).close();
      await chmod(path, 0o600);
    }
    let db: Database.Database | undefined;
    try {
      db = new Database(path);
      db.pragma(`busy_timeout = ${busyTimeoutMs}`);
      db.pragma('journal_mode = WAL');
      migrate(db, path);
      return new SqliteAlertHistory(db, path);
    } catch (err) {
      db?.close();
      if (err instanceof UnsupportedError || err instanceof IoError) throw err;
      throw new IoError(`cannot open alert history ${path}: ${(err as Error).message}`, { cause: err });
    }
  }

  async record(alert: Alert): Promise<void> {
    this.run('cannot write alert history', () =>
      this.db
        .prepare(
          `INSERT INTO alerts (id, fingerprint, rule, level_rank, source, state, raised_ms, resolved_ms, doc)
           VALUES (@id, @fingerprint, @rule, @levelRank, @source, @state, @raisedMs, @resolvedMs, @doc)
           ON CONFLICT (id) DO UPDATE SET level_rank = excluded.level_rank, state = excluded.state,
             resolved_ms = excluded.resolved_ms, doc = excluded.doc`,
        )
        .run({
          id: alert.id,
          fingerprint: alert.fingerprint,
          rule: alert.rule,
          levelRank: levelRank(alert.level),
          source: alert.source ?? null,
          state: alert.state,
          raisedMs: Date.parse(alert.raisedAt),
          resolvedMs: alert.resolvedAt ? Date.parse(alert.resolvedAt) : null,
          doc: JSON.stringify(alert),
        }),
    );
  }

  async query(q: AlertQuery = {}): Promise<Alert[]> {
    const where: string[] = [];
    const params: Record<string, unknown> = { limit: q.limit ?? DEFAULT_QUERY_LIMIT };
    if (q.levels) {
      where.push(`level_rank IN (${q.levels.map((l) => levelRank(l)).join(', ') || 'NULL'})`);
    }
    const add = (clause: string, name: string, value: unknown): void => {
      where.push(clause);
      params[name] = value;
    };
    if (q.state) add('state = @state', 'state', q.state);
    if (q.rule) add('rule = @rule', 'rule', q.rule);
    if (q.source) add('source = @source', 'source', q.source);
    if (q.until) add('raised_ms < @until', 'until', q.until.getTime());
    if (q.since) add('(resolved_ms IS NULL OR resolved_ms >= @since)', 'since', q.since.getTime());
    const sql = `SELECT doc FROM alerts ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY raised_ms DESC, id LIMIT @limit`;
    const rows = this.run('cannot read alert history', () => this.db.prepare(sql).all(params) as Row[]);
    return rows.map((r) => alertSchema.parse(JSON.parse(r.doc)));
  }

  async close(): Promise<void> {
    this.db.close();
  }

  private run<T>(what: string, work: () => T): T {
    try {
      return work();
    } catch (err) {
      throw new IoError(`${what} ${this.file}: ${(err as Error).message}`, { cause: err });
    }
  }
}

function migrate(db: Database.Database, path: string): void {
  const app = db.pragma('application_id', { simple: true }) as number;
  const version = db.pragma('user_version', { simple: true }) as number;
  if (app === 0 && version === 0) {
    db.exec(`
      CREATE TABLE alerts (
        id TEXT PRIMARY KEY,
        fingerprint TEXT NOT NULL,
        rule TEXT NOT NULL,
        level_rank INTEGER NOT NULL,
        source TEXT,
        state TEXT NOT NULL CHECK (state IN ('firing', 'resolved')),
        -- Epoch milliseconds: ISO strings with and without fractions do not sort as text.
        raised_ms INTEGER NOT NULL,
        resolved_ms INTEGER,
        doc TEXT NOT NULL
      );
      CREATE INDEX alerts_by_raised ON alerts (raised_ms);
      CREATE INDEX alerts_by_state ON alerts (state, raised_ms);
      CREATE INDEX alerts_by_fingerprint ON alerts (fingerprint);
    `);
    db.pragma(`application_id = ${applicationId}`);
    db.pragma(`user_version = ${schemaVersion}`);
    return;
  }
  if (app !== applicationId) throw new UnsupportedError(`${path} is not a Tresor alert history (application_id ${app})`);
  if (version > schemaVersion) throw new UnsupportedError(`alert history ${path} has schema ${version}, newer than this build's ${schemaVersion}; upgrade tresor`);
}
