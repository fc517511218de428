import { createHash, randomBytes } from 'node:crypto';
import type { Collection, Db, ReadConcernLevel, ReadConcernLike, WriteConcernSettings } from 'mongodb';
import type { DataRef, Entry } from '@tresor/archive';
import { entrySchema } from '@tresor/archive';
import { ConflictError, IntegrityError, IoError, NotFoundError, TresorError, UnavailableError, UsageError } from '@tresor/errors';
import type { BackupQuery, BackupRecord, Catalog, EntryQuery, SourceRecord } from '../catalog.js';
import { compileEntryQuery } from '../entry-filter.js';
import type { MongoCatalogConfig } from './config.js';
import { DEFAULT_STALE_PENDING_MS } from './config.js';
import type { BackupDoc, EntryDoc, SourceDoc } from './documents.js';
import { isMongoUnreachable } from './unreachable.js';
import { entryFromDoc, entryToDoc, sourceFromDoc } from './documents.js';
import { ensureIndexes } from './indexes.js';

const pageSize = 1000;
const DUPLICATE_KEY = 11000;

/** Index declarations: created (idempotently) by `MongoCatalog.open`. */
export const CATALOG_INDEXES = {
  sources: [{ key: { createdAt: 1, _id: 1 }, name: 'by_created' }],
  backups: [
    { key: { state: 1, createdMs: 1, 'record.createdAt': 1, _id: 1 }, name: 'by_state_created' },
    { key: { 'record.sourceId': 1, createdMs: 1 }, name: 'by_source_created' },
  ],
  entries: [
    { key: { b: 1, t: 1, k: 1 }, name: 'by_backup_path' },
    { key: { s: 1, db: 1 }, name: 'by_sha256' },
  ],
} as const;

/**
 * The catalog in MongoDB (cluster mode). No multi-document transactions (FerretDB v1 has none):
 * a backup is added by writing a `pending` backup document, its entries under a random token, and
 * then flipping the backup to `visible` in one single-document update. Readers only see visible
 * backups and only entries with the visible backup's token, so a failed or dead add is never seen;
 * a failed add cleans up after itself and a dead one is swept once it is stale.
 */
export class MongoCatalog implements Catalog {
  private constructor(
    private readonly db: Db,
    private readonly sources: Collection<SourceDoc>,
    private readonly backups: Collection<BackupDoc>,
    private readonly entriesCol: Collection<EntryDoc>,
    private readonly config: MongoCatalogConfig,
    private readonly onClose?: () => Promise<void>,
  ) {}

  /** Opens the catalog in `db`, creating its indexes and sweeping stale pending adds. */
  static async open(db: Db, config: MongoCatalogConfig = {}, onClose?: () => Promise<void>): Promise<MongoCatalog> {
    const prefix = config.collectionPrefix ?? '';
    const options = {
      writeConcern: {
        w: config.writeConcern?.w ?? 'majority',
        ...(config.writeConcern?.wtimeoutMS !== undefined ? { wtimeoutMS: config.writeConcern.wtimeoutMS } : {}),
        journal: config.writeConcern?.j ?? true,
      },
      readConcern: { level: (config.readConcern ?? 'majority') as ReadConcernLevel },
    } satisfies { writeConcern: WriteConcernSettings; readConcern: ReadConcernLike };
    const catalog = new MongoCatalog(
      db,
      db.collection<SourceDoc>(`${prefix}sources`, options),
      db.collection<BackupDoc>(`${prefix}backups`, options),
      db.collection<EntryDoc>(`${prefix}entries`, options),
      config,
      onClose,
    );
    await catalog.run('cannot create catalog indexes', async () => {
      await ensureIndexes(catalog.sources, CATALOG_INDEXES.sources);
      await ensureIndexes(catalog.backups, CATALOG_INDEXES.backups);
      await ensureIndexes(catalog.entriesCol, CATALOG_INDEXES.entries);
    });
    await catalog.sweepPending();
    return catalog;
  }

  get location(): string {
    return `mongodb:${this.db.databaseName}`;
  }

  async ensureSource(kind: string, location: string): Promise<SourceRecord> {
    const id = sourceId(kind, location);
    return this.run('cannot record source', async () => {
      for (let attempt = 0; ; attempt++) {
        try {
          await this.sources.updateOne(
            { _id: id },
            { $setOnInsert: { kind, location, createdAt: new Date().toISOString() } },
            { upsert: true },
          );
          break;
        } catch (err) {
          // Two racing upserts: one inserts, the other sees a duplicate and retries as an update.
          if (!(isDuplicate(err) && attempt < 2)) throw err;
        }
      }
      const doc = await this.sources.findOne({ _id: id });
      if (!doc) throw new IoError(`source ${id} vanished from catalog ${this.location}`);
      return sourceFromDoc(doc);
    });
  }

  async getSource(id: string): Promise<SourceRecord | undefined> {
    return this.run('cannot read sources', async () => {
      const doc = await this.sources.findOne({ _id: id });
      return doc ? sourceFromDoc(doc) : undefined;
    });
  }

  async listSources(): Promise<SourceRecord[]> {
    return this.run('cannot read sources', async () =>
      (await this.sources.find({}).sort({ createdAt: 1, _id: 1 }).toArray()).map(sourceFromDoc),
    );
  }

  async addBackup(backup: BackupRecord, entries: AsyncIterable<Entry> | Iterable<Entry>): Promise<void> {
    const createdMs = Date.parse(backup.createdAt);
    if (Number.isNaN(createdMs)) throw new UsageError(`backup ${backup.id} createdAt ${JSON.stringify(backup.createdAt)} is not an ISO-8601 time`);
    if (!(await this.getSource(backup.sourceId))) {
      throw new NotFoundError(`source ${backup.sourceId} of backup ${backup.id} not found in catalog ${this.location}`);
    }
    const token = randomBytes(12).toString('hex');
    await this.claimPending(backup, token, createdMs);
    try {
      await this.writeEntries(backup.id, token, entries);
      const flipped = await this.run(`cannot add backup ${backup.id}`, () =>
        this.backups.updateOne({ _id: backup.id, state: 'pending', token }, { $set: { state: 'visible' } }),
      );
      if (flipped.modifiedCount !== 1) {
        throw new ConflictError(`backup ${backup.id} was taken over by another writer of catalog ${this.location}`);
      }
    } catch (err) {
      await this.discard(backup.id, token).catch(() => undefined);
      throw err;
    }
  }

  async getBackup(id: string): Promise<BackupRecord | undefined> {
    return this.run('cannot read backups', async () => (await this.visible(id))?.record);
  }

  async listBackups(query: BackupQuery = {}): Promise<BackupRecord[]> {
    const notAfter = query.notAfter?.getTime();
    if (notAfter !== undefined && Number.isNaN(notAfter)) throw new UsageError('backup query notAfter is not a valid date');
    const filter: Record<string, unknown> = { state: 'visible' };
    if (query.sourceId !== undefined) filter['record.sourceId'] = query.sourceId;
    if (notAfter !== undefined) filter.createdMs = { $lte: notAfter };
    return this.run('cannot list backups', async () => {
      const docs = await this.backups.find(filter).sort({ createdMs: 1, 'record.createdAt': 1, _id: 1 }).toArray();
      return docs.map((d) => d.record);
    });
  }

  async *entries(backupId: string, query: EntryQuery = {}): AsyncIterable<Entry> {
    const keep = compileEntryQuery(query);
    const backup = await this.run('cannot read backups', () => this.visible(backupId));
    if (!backup) throw new NotFoundError(`backup ${backupId} not found in catalog ${this.location}`);
    for (let after = ''; ;) {
      const docs = await this.run('cannot read entries', () =>
        this.entriesCol
          .find({ b: backupId, t: backup.token, k: { $gt: after } })
          .sort({ b: 1, t: 1, k: 1 })
          .limit(pageSize)
          .toArray(),
      );
      for (const doc of docs) {
        const entry = entryFromDoc(doc);
        if (keep(entry.path)) yield entry;
      }
      const last = docs[docs.length - 1];
      if (last === undefined || docs.length < pageSize) return;
      after = last.k;
    }
  }

  async findData(sha256: string, amongBackupIds: readonly string[]): Promise<DataRef | undefined> {
    if (amongBackupIds.length === 0) return undefined;
    return this.run('cannot look up content', async () => {
      const candidates = await this.entriesCol
        .find({ s: sha256.toLowerCase(), db: { $in: [...amongBackupIds] } })
        .sort({ db: 1, 'd.offset': 1 })
        .limit(50)
        .toArray();
      const tokens = new Map<string, string | undefined>();
      for (const doc of candidates) {
        if (!tokens.has(doc.b)) tokens.set(doc.b, (await this.visible(doc.b))?.token);
        if (tokens.get(doc.b) === doc.t && doc.d) return { ...doc.d };
      }
      return undefined;
    });
  }

  async deleteBackup(id: string): Promise<void> {
    await this.run(`cannot delete backup ${id}`, async () => {
      // The backup document first: its entries are invisible from then on.
      await this.backups.deleteOne({ _id: id });
      await this.entriesCol.deleteMany({ b: id });
    });
  }

  async clear(): Promise<void> {
    await this.run('cannot clear catalog', async () => {
      await this.backups.deleteMany({});
      await this.entriesCol.deleteMany({});
      await this.sources.deleteMany({});
    });
  }

  /** Removes pending adds older than `stalePendingMs` (their writer died) with their entries. */
  async sweepPending(now = Date.now()): Promise<number> {
    const cutoff = new Date(now - (this.config.stalePendingMs ?? DEFAULT_STALE_PENDING_MS));
    return this.run('cannot sweep pending backups', async () => {
      const stale = await this.backups.find({ state: 'pending', pendingSince: { $lt: cutoff } }).toArray();
      for (const doc of stale) await this.discard(doc._id, doc.token);
      return stale.length;
    });
  }

  async close(): Promise<void> {
    await this.onClose?.();
  }

  private visible(id: string): Promise<BackupDoc | null> {
    return this.backups.findOne({ _id: id, state: 'visible' });
  }

  /** Inserts the pending backup document, or takes over a stale one; a visible one is a conflict. */
  private async claimPending(backup: BackupRecord, token: string, createdMs: number): Promise<void> {
    const doc: BackupDoc = { _id: backup.id, state: 'pending', token, pendingSince: new Date(), createdMs, record: { ...backup } };
    await this.run(`cannot add backup ${backup.id}`, async () => {
      try {
        await this.backups.insertOne(doc);
        return;
      } catch (err) {
        if (!isDuplicate(err)) throw err;
      }
      const existing = await this.backups.findOne({ _id: backup.id });
      const stale = this.config.stalePendingMs ?? DEFAULT_STALE_PENDING_MS;
      if (existing?.state === 'pending' && existing.pendingSince.getTime() < Date.now() - stale) {
        const taken = await this.backups.replaceOne({ _id: backup.id, state: 'pending', token: existing.token }, doc);
        if (taken.modifiedCount === 1) {
          await this.entriesCol.deleteMany({ b: backup.id, t: existing.token });
          return;
        }
      }
      throw new ConflictError(
        existing?.state === 'pending'
          ? `backup ${backup.id} is being added to catalog ${this.location} by another writer`
          : `backup ${backup.id} is already in catalog ${this.location}`,
      );
    });
  }

  private async writeEntries(backupId: string, token: string, entries: AsyncIterable<Entry> | Iterable<Entry>): Promise<void> {
    const batchSize = this.config.batchSize ?? 1000;
    let batch: EntryDoc[] = [];
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return;
      const docs = batch;
      batch = [];
      try {
        await this.entriesCol.insertMany(docs, { ordered: true });
      } catch (err) {
        if (isDuplicate(err)) {
          const index = (err as { writeErrors?: { index: number }[] | { index: number } }).writeErrors;
          const at = Array.isArray(index) ? index[0]?.index : index?.index;
          const path = at === undefined ? undefined : docs[at]?.e.path;
          throw new IntegrityError(`entry ${path === undefined ? '(unknown)' : JSON.stringify(path)} appears twice in backup ${backupId}`);
        }
        throw this.wrap(err, `cannot add backup ${backupId}`);
      }
    };
    for await (const entry of entries) {
      const parsed = entrySchema.safeParse(withoutUndefined(entry));
      if (!parsed.success) {
        throw new IntegrityError(`entry ${JSON.stringify(entry.path)} of backup ${backupId} is invalid: ${parsed.error.issues[0]?.message}`);
      }
      batch.push(entryToDoc(entry, backupId, token));
      if (batch.length >= batchSize) await flush();
    }
    await flush();
  }

  private async discard(backupId: string, token: string): Promise<void> {
    await this.backups.deleteOne({ _id: backupId, state: 'pending', token });
    await this.entriesCol.deleteMany({ b: backupId, t: token });
  }

  private async run<T>(doing: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      throw this.wrap(err, doing);
    }
  }

  private wrap(err: unknown, doing: string): unknown {
    if (err instanceof TresorError) return err;
    const message = err instanceof Error ? err.message : String(err);
    if (isMongoUnreachable(err)) return new UnavailableError(`${doing}: catalog ${this.location}: ${message}`, { cause: err });
    return new IoError(`${doing}: catalog ${this.location}: ${message}`, { cause: err });
  }
}

function isDuplicate(err: unknown): boolean {
  const e = err as { code?: number; writeErrors?: { code?: number }[] | { code?: number } };
  if (e?.code === DUPLICATE_KEY) return true;
  const we = e?.writeErrors;
  return Array.isArray(we) ? we.some((w) => w.code === DUPLICATE_KEY) : we?.code === DUPLICATE_KEY;
}

function withoutUndefined(entry: Entry): Record<string, unknown> {
  return Object.fromEntries(Object.entries(entry).filter(([, v]) => v !== undefined));
}

/** Derived from kind and location, exactly like the SQLite catalog, so ids agree across adapters. */
function sourceId(kind: string, location: string): string {
  return createHash('sha256').update(`${kind}\n${location}`).digest('hex').slice(0, 32);
}
