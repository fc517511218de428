import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { IntegrityError, IoError } from '@tresor/errors';
import type { InheritedRun } from '@tresor/archive';
import type { EntryTableSummary } from '../catalog.js';

/** What the staging thread needs: its own connection to the catalog file, and the statements to run. */
export interface StagingThreadOptions {
  readonly file: string;
  readonly busyTimeoutMs: number;
  /** Creates the connection-private staging table. */
  readonly createStaging: string;
  /** Inserts one entry's values (ENTRY_VALUES_SOURCE's order) into it. */
  readonly insertStaged: string;
  /** Inserts the backup row (named parameters of BackupRow). */
  readonly insertBackup: string;
  /** Copies the staged entries into `entries` (one parameter: the backup id). */
  readonly copyStaged: string;
  /** Copies the parent's rows from a path to a path into `entries` (parameters: backup id, parent id, first, last path). */
  readonly copyInherited: string;
  /** The first path of a backup between two paths (parameters: backup id, first, last path). */
  readonly firstPathBetween: string;
  /** The backup whose rows inherited lines are (none: no line may be inherited). */
  readonly parentId?: string;
  /** The source of the function from a parsed table line to its values. */
  readonly entryValues: string;
}

/** A SQLite failure as the thread reports it: enough to map it as if it had been raised here. */
export interface StagingFailure {
  readonly name: string;
  readonly code?: string;
  readonly message: string;
  /** The entry being staged, when the failure is about one entry. */
  readonly path?: string;
  /** Set when the failure came from the commit's transaction rather than staging. */
  readonly committing?: boolean;
  /** Set when the caller broke the protocol (inherited runs that do not fit their lines). */
  readonly malformed?: boolean;
}

/** Bytes of lines sent to the thread and not yet staged, at most: beyond, add waits for it. */
const MAX_QUEUED_BYTES = 4 * 1024 * 1024;

export type CommitReply =
  | { readonly ok: true }
  | { readonly failure: StagingFailure }
  | { readonly mismatch: { readonly lines: number; readonly sha256: string } }
  | { readonly inheritedMismatch: InheritedMismatch };

/** A run of inherited lines for which the parent's table did not have exactly those rows. */
export interface InheritedMismatch {
  readonly parentId: string | null;
  readonly first: string;
  readonly last: string;
  readonly lines: number;
  readonly rows: number;
}

/**
 * The thread's code (CommonJS, evaluated, like the reader threads'). Each message of lines is
 * hashed, parsed and inserted in one transaction, except runs of lines inherited from the parent:
 * of those only the first and last paths are read (issue 9: parsing and inserting a no-change
 * backup's 100k lines cost ~0.4 s of its wall time). The first failure is kept and reported at
 * commit. `prepare` (the table is complete) checks the lines against the archive's table, then
 * opens an IMMEDIATE transaction that copies the staged rows and the parent's rows of each
 * inherited run (which must be as many as its lines; CHECK constraints, which they passed when
 * inserted, are not evaluated again: ADR 36), while the caller finishes the archive;
 * `commit` inserts the backup row and commits (foreign keys are checked then). Without `prepare`,
 * commit does both steps. Copying the rows to the staging table instead, while the lines come,
 * was slower (1.97 s against 1.78 s): past its 2 MiB cache, that table goes to disk. Closing the
 * connection drops the table and rolls back a transaction left open.
 */
const THREAD_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { StringDecoder } = require('node:string_decoder');
const options = workerData.options;
const Database = require(workerData.sqlite);
const toValues = new Function('return ' + options.entryValues)();
const hash = createHash('sha256');
const utf8 = new StringDecoder('utf8');
let db, insert, failure, lines = 0, partial = '';
const inherited = [];
const describe = (err, extra) => ({ name: err.name, code: err.code, message: err.message, ...extra });
try {
  db = new Database(options.file, { fileMustExist: true });
  db.pragma('busy_timeout = ' + options.busyTimeoutMs);
  db.pragma('foreign_keys = ON');
  db.pragma('synchronous = NORMAL');
  // Staged rows arrive in path order and are read once: past 2 MiB of cache they may go to the
  // temp file rather than take the default 16 MiB of this process's memory.
  db.pragma('temp.cache_size = -2000');
  db.exec(options.createStaging);
  insert = db.prepare(options.insertStaged);
} catch (err) {
  failure = describe(err);
}
const pathOf = (text, start, end) => JSON.parse(text.slice(start, end)).path;
const malformed = (message) => Object.assign(new Error(message), { malformed: true });
const copyRuns = (backupId) => {
  const copy = db.prepare(options.copyInherited);
  for (const { first, last, lines } of inherited) {
    let rows = 0;
    try {
      rows = options.parentId === undefined ? 0 : copy.run(backupId, options.parentId, first, last).changes;
    } catch (err) {
      // A path both inherited and staged (or inherited twice): name one, as staging would have.
      const twice = db.prepare(options.firstPathBetween).pluck().get(backupId, first, last);
      throw twice === undefined ? err : Object.assign(err, { entryPath: twice });
    }
    if (rows !== lines) throw Object.assign(new Error('inherited'), { inheritedMismatch: { parentId: options.parentId ?? null, first, last, lines, rows } });
  }
};
/** Checks that runs are whole, in order and apart: line indexes of the message they came with. */
const checkRuns = (runs) => {
  let next = 0;
  for (const { first, count } of runs) {
    if (!Number.isInteger(first) || !Number.isInteger(count) || count < 1 || first < next) throw malformed('inherited runs that overlap, are empty or out of order');
    next = first + count;
  }
};
const stage = (text, runs) => {
  let start = 0, line = 0, run = 0, first;
  for (let end = text.indexOf('\\n'); end !== -1; end = text.indexOf('\\n', start), line++) {
    const within = runs[run];
    if (within !== undefined && line >= within.first) {
      if (line === within.first) first = pathOf(text, start, end);
      if (line === within.first + within.count - 1) {
        inherited.push({ first, last: within.count === 1 ? first : pathOf(text, start, end), lines: within.count });
        run++;
      }
      lines++;
      start = end + 1;
      continue;
    }
    const entry = JSON.parse(text.slice(start, end));
    lines++;
    start = end + 1;
    try {
      insert.run(toValues(entry));
    } catch (err) {
      throw Object.assign(err, { entryPath: entry.path });
    }
  }
  partial = text.slice(start);
  if (run < runs.length) throw malformed('inherited runs past the end of their lines');
};
/** The reply to a table that does not match the lines staged, or undefined; the hash is taken once. */
let sha256;
const tableMismatch = (table) => {
  sha256 ??= hash.digest('hex');
  if (partial + utf8.end() !== '' || lines !== table.entryCount || sha256 !== table.entriesRoot) return { mismatch: { lines, sha256 } };
};
const failed = (err) =>
  err.inheritedMismatch
    ? { inheritedMismatch: err.inheritedMismatch }
    : { failure: describe(err, err.entryPath === undefined ? { committing: true } : { committing: true, path: err.entryPath }) };
const rollback = () => { try { if (db.inTransaction) db.exec('ROLLBACK'); } catch {} };
/** What prepare left for commit: the table it was checked against, or the reply commit must give. */
let prepared;
const prepare = (backupId, table) => {
  if (failure) return { reply: { failure } };
  const mismatch = tableMismatch(table);
  if (mismatch) return { reply: mismatch };
  try {
    db.exec('BEGIN IMMEDIATE');
    // The backup row comes at commit; its entries wait for it until then.
    db.pragma('defer_foreign_keys = ON');
    db.prepare(options.copyStaged).run(backupId);
    // The parent's rows passed the table's CHECK constraints when they were inserted, and are
    // copied unchanged: checking them again was a fifth of the copy (issue 9).
    db.pragma('ignore_check_constraints = ON');
    try {
      copyRuns(backupId);
    } finally {
      db.pragma('ignore_check_constraints = OFF');
    }
    return { table };
  } catch (err) {
    rollback();
    return { reply: failed(err) };
  }
};
const commit = (row, table) => {
  prepared ??= prepare(row.id, table);
  if (prepared.reply) return prepared.reply;
  if (prepared.table.entryCount !== table.entryCount || prepared.table.entriesRoot !== table.entriesRoot) {
    rollback();
    return { mismatch: { lines, sha256 } };
  }
  try {
    db.prepare(options.insertBackup).run(row);
    db.exec('COMMIT');
    return { ok: true };
  } catch (err) {
    rollback();
    return failed(err);
  }
};
parentPort.on('message', (message) => {
  if (message.type === 'lines' && prepared) {
    // The table was complete: more lines break the protocol, and the rows put in place go.
    rollback();
    prepared = { reply: { failure: describe(malformed('lines after the table was complete'), { malformed: true }) } };
    parentPort.postMessage({ staged: message.bytes.byteLength });
    return;
  }
  if (message.type === 'lines') {
    hash.update(message.bytes);
    if (!failure) {
      try {
        // Runs count lines of this message: they can only come with whole lines.
        if (partial !== '' && message.inherited.length > 0) throw malformed('inherited runs in a message that does not start a line');
        checkRuns(message.inherited);
        db.transaction(stage)(partial + utf8.write(message.bytes), message.inherited);
      } catch (err) {
        failure = describe(err, err.entryPath === undefined ? { malformed: err.malformed } : { path: err.entryPath });
      }
    }
    parentPort.postMessage({ staged: message.bytes.byteLength });
    return;
  }
  if (message.type === 'prepare') {
    prepared ??= prepare(message.backupId, message.table);
    return;
  }
  const reply = commit(message.row, message.table);
  try { db && db.close(); } catch {}
  parentPort.postMessage(reply);
});
`;

let sqliteModule: string | undefined;

/**
 * Stages a backup's entries on a thread with its own connection to the catalog file, while the
 * archive is written: the main thread only copies each chunk of table lines into a message
 * (issue 9: staging 100k rows and reading the table back cost a backup's main thread ~1.3 s).
 * The thread acknowledges each chunk, and `add` waits while more than MAX_QUEUED_BYTES wait there.
 */
export class StagingThread {
  private readonly worker: Worker;
  /** The thread's one reply (to commit), or why it ended without one. */
  private readonly outcome: Promise<CommitReply | Error>;
  private done = false;
  private queued = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(options: StagingThreadOptions) {
    sqliteModule ??= createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(THREAD_SOURCE, { eval: true, workerData: { sqlite: sqliteModule, options } });
    // Idle until commit: a staging abandoned by a failing caller must not keep the process alive.
    this.worker.unref();
    this.outcome = new Promise((resolve) => {
      this.worker.on('message', (reply: CommitReply | { staged: number }) => {
        if (!('staged' in reply)) return resolve(reply);
        this.queued -= reply.staged;
        if (this.queued <= MAX_QUEUED_BYTES) this.release();
      });
      this.worker.on('error', resolve);
      this.worker.on('exit', (code) => resolve(new Error(`the catalog staging thread exited (code ${code})`)));
    });
    // A thread that ends must not leave a caller waiting for room; its failure surfaces at commit.
    void this.outcome.then(() => {
      this.queued = 0;
      this.release();
    });
  }

  /**
   * Queues whole table lines for the thread; resolves once it has room for more (at most
   * MAX_QUEUED_BYTES wait there), so a thread that falls behind cannot fill memory with the table.
   */
  add(lines: Uint8Array, inherited: readonly InheritedRun[] = []): Promise<void> {
    if (this.done) throw new IoError('entries were added to a catalog staging that is already committed or discarded');
    // A copy of its own, moved to the thread: the caller's buffer is still being written to disk.
    const bytes = new Uint8Array(lines);
    this.queued += bytes.byteLength;
    this.worker.postMessage({ type: 'lines', bytes, inherited }, [bytes.buffer]);
    if (this.queued <= MAX_QUEUED_BYTES) return Promise.resolve();
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    for (const resume of this.waiting.splice(0)) resume();
  }

  /**
   * Tells the thread the table is complete: it checks the lines against `table` and puts the
   * entries in place in a transaction of its own, left open for commit, meanwhile holding the
   * catalog's write lock (other writers wait, up to their busy timeout).
   */
  prepare(backupId: string, table: EntryTableSummary): void {
    if (this.done) throw new IoError('a catalog staging that is already committed or discarded cannot be prepared');
    this.worker.postMessage({ type: 'prepare', backupId, table: { entryCount: table.entryCount, entriesRoot: table.entriesRoot } });
  }

  /** Runs the commit (backup row `row`, lines checked against `table`) on the thread; its reply. */
  async commit(row: object, table: EntryTableSummary): Promise<CommitReply> {
    if (this.done) throw new IoError('a catalog staging can only be committed once');
    this.done = true;
    this.worker.ref();
    this.worker.postMessage({ type: 'commit', row, table: { entryCount: table.entryCount, entriesRoot: table.entriesRoot } });
    const outcome = await this.outcome;
    await this.worker.terminate();
    if (outcome instanceof Error) throw new IoError(`cannot stage the backup's entries: ${outcome.message}`, { cause: outcome });
    return outcome;
  }

  /** Stops the thread, dropping what it staged; never rejects. */
  async discard(): Promise<void> {
    this.done = true;
    this.release();
    await this.worker.terminate().catch(() => undefined);
  }
}

/** The error a staged commit ends with when the parent's rows were not those the backup inherited from it. */
export function inheritedMismatch(backupId: string, m: InheritedMismatch): IntegrityError {
  return new IntegrityError(
    `catalog staging of backup ${backupId} inherited ${m.lines} entries from ${JSON.stringify(m.first)} to ` +
      `${JSON.stringify(m.last)} of parent backup ${m.parentId ?? '(none)'}, but the catalog has ${m.rows} there ` +
      `(was the parent forgotten meanwhile? \`tresor catalog rebuild\` reindexes from the archives)`,
  );
}

/** The error a staged commit ends with when the lines staged are not the archive's table. */
export function stagedMismatch(backupId: string, table: EntryTableSummary, staged: { lines: number; sha256: string }): IntegrityError {
  return new IntegrityError(
    `catalog staging of backup ${backupId} got ${staged.lines} lines (SHA-256 ${staged.sha256}), ` +
      `but its archive's entry table has ${table.entryCount} (${table.entriesRoot})`,
  );
}
