import type { Collection, Db } from 'mongodb';
import { auditCheckpointSchema, auditEntrySchema } from '@tresor/contracts';
import type { AuditCheckpoint, AuditEntry } from '@tresor/contracts';
import { ConflictError, IntegrityError, IoError, TresorError } from '@tresor/errors';
import type { AuditStore, StoredRecord } from '../store.js';

type EntryDoc = AuditEntry & { _id: number };
type CheckpointDoc = AuditCheckpoint & { _id: number };

const DUPLICATE_KEY = 11000;

/**
 * The chain in MongoDB (and FerretDB v1: single-document writes, unique indexes, no transactions).
 * An entry is one document whose `_id` is its seq, so a second writer with the same head gets a
 * duplicate-key error instead of forking the chain; `id` (idempotency key) has a unique index.
 * Storage order is `_id` order: that is what verification walks.
 */
export class MongoAuditStore implements AuditStore {
  private readonly entries: Collection<EntryDoc>;
  private readonly checkpoints: Collection<CheckpointDoc>;

  private constructor(db: Db, names: { entries: string; checkpoints: string }) {
    this.entries = db.collection<EntryDoc>(names.entries);
    this.checkpoints = db.collection<CheckpointDoc>(names.checkpoints);
  }

  /** Opens the store and creates its index (idempotent). */
  static async open(db: Db, names = { entries: 'audit_entries', checkpoints: 'audit_checkpoints' }): Promise<MongoAuditStore> {
    const store = new MongoAuditStore(db, names);
    await guard('create audit indexes', () => store.entries.createIndex({ id: 1 }, { unique: true, name: 'audit_entry_id' }));
    return store;
  }

  async head(): Promise<AuditEntry | undefined> {
    const doc = await guard('read the audit head', () => this.entries.find({}).sort({ _id: -1 }).limit(1).next());
    return doc ? parseEntry(doc) : undefined;
  }

  async findById(id: string): Promise<AuditEntry | undefined> {
    const doc = await guard('look up an audit entry', () => this.entries.findOne({ id }));
    return doc ? parseEntry(doc) : undefined;
  }

  async append(entry: AuditEntry): Promise<void> {
    try {
      await this.entries.insertOne({ _id: entry.seq, ...entry });
    } catch (err) {
      if ((err as { code?: unknown }).code === DUPLICATE_KEY) throw new ConflictError(`audit entry ${entry.seq} (or id ${entry.id}) is already stored`, { cause: err });
      throw unavailable('append to the audit log', err);
    }
  }

  async read(from: number, limit: number): Promise<AuditEntry[]> {
    const docs = await guard('read audit entries', () => this.entries.find({ _id: { $gte: from } }).sort({ _id: 1 }).limit(limit).toArray());
    return docs.map(parseEntry);
  }

  async *scan(): AsyncIterable<StoredRecord> {
    const cursor = this.entries.find({}).sort({ _id: 1 }).batchSize(1000);
    try {
      for await (const { _id, ...raw } of cursor) yield { position: `_id ${_id}`, raw };
    } catch (err) {
      throw unavailable('read the audit log', err);
    }
  }

  async appendCheckpoint(checkpoint: AuditCheckpoint): Promise<void> {
    try {
      await this.checkpoints.insertOne({ _id: checkpoint.seq, ...checkpoint });
    } catch (err) {
      if ((err as { code?: unknown }).code === DUPLICATE_KEY) return;
      throw unavailable('write an audit checkpoint', err);
    }
  }

  async lastCheckpoint(): Promise<AuditCheckpoint | undefined> {
    const doc = await guard('read the last audit checkpoint', () => this.checkpoints.find({}).sort({ _id: -1 }).limit(1).next());
    if (!doc) return undefined;
    const { _id: _ignored, ...raw } = doc;
    const parsed = auditCheckpointSchema.safeParse(raw);
    return parsed.success ? parsed.data : undefined;
  }

  async *scanCheckpoints(): AsyncIterable<StoredRecord> {
    const cursor = this.checkpoints.find({}).sort({ _id: 1 });
    try {
      for await (const { _id, ...raw } of cursor) yield { position: `checkpoint _id ${_id}`, raw };
    } catch (err) {
      throw unavailable('read audit checkpoints', err);
    }
  }

  async close(): Promise<void> {}
}

function parseEntry(doc: EntryDoc): AuditEntry {
  const { _id, ...raw } = doc;
  const parsed = auditEntrySchema.safeParse(raw);
  if (!parsed.success) throw new IntegrityError(`audit entry _id ${_id} is damaged; run \`tresor audit verify\``);
  return parsed.data;
}

async function guard<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw unavailable(what, err);
  }
}

function unavailable(what: string, err: unknown): TresorError {
  if (err instanceof TresorError) return err;
  return new IoError(`audit store: cannot ${what}: ${(err as Error).message}`, { cause: err });
}
