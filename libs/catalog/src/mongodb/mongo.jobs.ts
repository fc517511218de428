import { randomUUID } from 'node:crypto';
import type { Collection, Db } from 'mongodb';
import type { JobKind, JobRecord, JobState } from '@tresor/contracts';
import { JOB_TRANSITIONS, TERMINAL_JOB_STATES } from '@tresor/contracts';
import { ConflictError, NotFoundError, UsageError } from '@tresor/errors';
import { ensureIndexes } from './indexes.js';

interface JobDoc extends Omit<JobRecord, 'id'> {
  _id: string;
}

/** One won transition: `_id` is `<jobId>@<version>`, so of two racing writers exactly one inserts it. */
interface TransitionDoc {
  _id: string;
  job: string;
  version: number;
  /** {dotted path, value} pairs ($set of the job document; field names may not contain dots). */
  set: { p: string; v: unknown }[];
  at: Date;
}

export interface NewJob {
  readonly kind: JobKind;
  readonly params: Record<string, unknown>;
  readonly idempotencyKey?: string | null;
  readonly traceparent?: string | null;
}

export interface TransitionPatch {
  readonly result?: Record<string, unknown> | null;
  readonly error?: { code: string; message: string } | null;
}

export const JOB_INDEXES = [
  { key: { idempotencyKey: 1 }, name: 'by_idempotency_key', unique: true, sparse: true },
  { key: { kind: 1, createdAt: -1 }, name: 'by_kind_created' },
  { key: { state: 1, updatedAt: 1 }, name: 'by_state_updated' },
] as const;

/**
 * Job documents with optimistic concurrency: every transition names the version it read and
 * increments it, so of two workers racing for one job exactly one transition wins.
 */
export class MongoJobStore {
  private constructor(
    private readonly jobs: Collection<JobDoc>,
    private readonly transitions: Collection<TransitionDoc>,
  ) {}

  static async open(db: Db, collectionPrefix = ''): Promise<MongoJobStore> {
    const writeConcern = { w: 'majority' as const, journal: true };
    const jobs = db.collection<JobDoc>(`${collectionPrefix}jobs`, { writeConcern });
    const transitions = db.collection<TransitionDoc>(`${collectionPrefix}job_transitions`, { writeConcern });
    await ensureIndexes(jobs, JOB_INDEXES);
    await ensureIndexes(transitions, [{ key: { job: 1, version: 1 }, name: 'by_job_version' }]);
    return new MongoJobStore(jobs, transitions);
  }

  /**
   * Creates a job in state `requested`. With an idempotency key, a second create with the same key
   * returns the first job (`created: false`) if its kind and parameters match, else ConflictError.
   */
  async create(job: NewJob, id: string = `job-${randomUUID()}`): Promise<{ job: JobRecord; created: boolean }> {
    const now = new Date().toISOString();
    const doc: JobDoc = {
      _id: id,
      kind: job.kind,
      state: 'requested',
      version: 0,
      attempts: 0,
      worker: null,
      params: job.params,
      result: null,
      error: null,
      traceparent: job.traceparent ?? null,
      createdAt: now,
      updatedAt: now,
      timestamps: { requested: now },
      // Absent rather than null: the sparse unique index then ignores jobs without a key.
      ...(job.idempotencyKey ? { idempotencyKey: job.idempotencyKey } : {}),
    } as JobDoc;
    try {
      await this.jobs.insertOne(doc);
      return { job: fromDoc(doc), created: true };
    } catch (err) {
      if (!isDuplicateKey(err) || !job.idempotencyKey) throw err;
      const existing = await this.jobs.findOne({ idempotencyKey: job.idempotencyKey });
      if (!existing) throw err;
      if (existing.kind !== job.kind || JSON.stringify(existing.params) !== JSON.stringify(job.params)) {
        throw new ConflictError(`Idempotency-Key ${job.idempotencyKey} was used for a different request (job ${existing._id})`);
      }
      return { job: fromDoc(existing), created: false };
    }
  }

  /** The job, with any transition a writer won but did not yet copy into the job document rolled forward. */
  async get(id: string): Promise<JobRecord | undefined> {
    const doc = await this.jobs.findOne({ _id: id });
    return doc ? fromDoc(await this.rollForward(doc)) : undefined;
  }

  async list(query: { kind?: JobKind; state?: JobState; limit?: number } = {}): Promise<JobRecord[]> {
    const filter: Record<string, unknown> = {};
    if (query.kind) filter.kind = query.kind;
    if (query.state) filter.state = query.state;
    const docs = await this.jobs.find(filter).sort({ createdAt: -1, _id: 1 }).limit(query.limit ?? 100).toArray();
    return docs.map(fromDoc);
  }

  /**
   * Moves a job from the version the caller read to `to`. Returns the new record, or undefined if
   * the job changed meanwhile (another worker won). UsageError for a transition the lifecycle forbids.
   */
  async transition(job: JobRecord, to: JobState, patch: TransitionPatch = {}): Promise<JobRecord | undefined> {
    if (!JOB_TRANSITIONS[job.state].includes(to)) {
      throw new UsageError(`job ${job.id} cannot go from ${job.state} to ${to}`);
    }
    const now = new Date().toISOString();
    const set: Record<string, unknown> = { state: to, updatedAt: now, [`timestamps.${to}`]: now };
    if (patch.result !== undefined) set.result = patch.result;
    if (patch.error !== undefined) set.error = patch.error;
    return this.commit(job.id, job.version, set);
  }

  /**
   * Claims a job for `worker` (state `running`, attempts + 1). A job another worker was running is
   * claimed too: its message came back only because that worker stopped extending its ack wait.
   * Returns undefined if the job is finished or another worker claimed it first.
   */
  async claim(id: string, worker: string): Promise<JobRecord | undefined> {
    for (let tries = 0; tries < 5; tries++) {
      const job = await this.get(id);
      if (!job) throw new NotFoundError(`job ${id} not found`);
      if (TERMINAL_JOB_STATES.includes(job.state)) return undefined;
      const now = new Date().toISOString();
      const claimed = await this.commit(id, job.version, {
        state: 'running',
        worker,
        attempts: job.attempts + 1,
        updatedAt: now,
        'timestamps.running': now,
        ...(job.state === 'requested' ? { 'timestamps.queued': now } : {}),
      });
      if (claimed) return claimed;
    }
    return undefined;
  }

  /**
   * Wins version `from + 1` by inserting its transition document (a unique _id: the one atomic
   * primitive FerretDB v1 and MongoDB share; FerretDB's findAndModify is not atomic under races),
   * then copies it into the job document. A writer that dies in between is rolled forward by `get`.
   */
  private async commit(id: string, from: number, set: Record<string, unknown>): Promise<JobRecord | undefined> {
    const version = from + 1;
    try {
      await this.transitions.insertOne({ _id: `${id}@${version}`, job: id, version, set: Object.entries(set).map(([p, v]) => ({ p, v })), at: new Date() });
    } catch (err) {
      if (isDuplicateKey(err)) return undefined;
      throw err;
    }
    await this.jobs.updateOne({ _id: id, version: { $lt: version } }, { $set: { ...set, version } });
    return this.get(id);
  }

  private async rollForward(doc: JobDoc): Promise<JobDoc> {
    const pending = await this.transitions.find({ job: doc._id, version: { $gt: doc.version } }).sort({ version: 1 }).toArray();
    if (pending.length === 0) return doc;
    let current: JobDoc = doc;
    for (const t of pending) {
      if (t.version !== current.version + 1) break;
      const set = Object.fromEntries(t.set.map(({ p, v }) => [p, v]));
      current = applySet(current, set, t.version);
      await this.jobs.updateOne({ _id: doc._id, version: { $lt: t.version } }, { $set: { ...set, version: t.version } });
    }
    return current;
  }
}

function applySet(doc: JobDoc, set: Record<string, unknown>, version: number): JobDoc {
  const next = structuredClone(doc) as unknown as Record<string, unknown>;
  for (const [path, value] of Object.entries(set)) {
    const parts = path.split('.');
    let target = next;
    for (const part of parts.slice(0, -1)) target = (target[part] ??= {}) as Record<string, unknown>;
    target[parts[parts.length - 1]!] = value;
  }
  next.version = version;
  return next as unknown as JobDoc;
}

function fromDoc(doc: JobDoc): JobRecord {
  const { _id, ...rest } = doc;
  return { ...rest, id: _id, idempotencyKey: rest.idempotencyKey ?? null } as JobRecord;
}

/** A unique-index violation (E11000); checked by code so that this module loads without the driver. */
function isDuplicateKey(err: unknown): boolean {
  return (err as { code?: unknown } | undefined)?.code === 11000;
}
