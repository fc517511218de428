import { randomUUID } from 'node:crypto';
import type { Collection, Db } from 'mongodb';
import type { ScheduleRecord } from '@tresor/contracts';
import { ensureIndexes } from './indexes.js';

interface ScheduleDoc {
  _id: string;
  kind: 'once' | 'interval' | 'cron';
  everyMs: number | null;
  /** interval: the first due time, from which the others are whole periods apart. */
  anchor?: Date | null;
  cron?: string | null;
  timezone?: string;
  plan?: PlanRule[];
  jitterMs?: number;
  catchUp?: 'skip' | 'run-once';
  paused?: boolean;
  backup: Record<string, unknown>;
  /** The earliest due time not yet handled; null once a one-off schedule has fired. */
  nextRunAt: Date | null;
  /** Due times a scheduler claimed whose jobs may not be submitted yet (an outbox). */
  pending?: Date[];
  /** The fencing token of the scheduler leader that last claimed runs. */
  fence?: number;
  fired: number;
  lastJobId: string | null;
  lastRunAt: Date | null;
  createdAt: Date;
  version: number;
}

type PlanRule = ScheduleRecord['plan'][number];

export interface NewSchedule {
  readonly kind: 'once' | 'interval' | 'cron';
  /** once: the time; interval: the first run; cron: where to start looking (default now). */
  readonly firstRunAt?: Date;
  readonly everyMs?: number | null;
  readonly cron?: string | null;
  readonly timezone?: string;
  readonly plan?: readonly PlanRule[];
  readonly jitterMs?: number;
  readonly catchUp?: 'skip' | 'run-once';
  readonly paused?: boolean;
  readonly backup: Record<string, unknown>;
}

/** The fields a schedule's definition sets, on create and on replace alike: timing (starting at its first run), plan and backup request. */
function definitionFields(schedule: NewSchedule): Pick<ScheduleDoc, 'kind' | 'everyMs' | 'anchor' | 'cron' | 'timezone' | 'plan' | 'jitterMs' | 'catchUp' | 'paused' | 'backup' | 'nextRunAt'> {
  const first = schedule.firstRunAt ?? new Date();
  return {
    kind: schedule.kind,
    everyMs: schedule.kind === 'interval' ? (schedule.everyMs ?? null) : null,
    anchor: schedule.kind === 'interval' ? first : null,
    cron: schedule.kind === 'cron' ? (schedule.cron ?? null) : null,
    timezone: schedule.timezone ?? 'UTC',
    plan: [...(schedule.plan ?? [])],
    jitterMs: schedule.jitterMs ?? 0,
    catchUp: schedule.catchUp ?? 'skip',
    paused: schedule.paused ?? false,
    backup: schedule.backup,
    nextRunAt: first,
  };
}

export const SCHEDULE_INDEXES = [{ key: { nextRunAt: 1 }, name: 'by_next_run' }] as const;

/**
 * Schedules next to the job store. A scheduler claims the runs it is about to fire by moving
 * `nextRunAt` past them and adding their due times to `pending`, in one update conditional on the
 * version it read and on no later leader (a higher fencing token) having claimed: two schedulers
 * can never both claim a run. It then submits each run's job (idempotency key `<id>@<due>`) and
 * removes it from `pending`; a scheduler that dies in between leaves it there for the next.
 */
export class MongoScheduleStore {
  private constructor(private readonly schedules: Collection<ScheduleDoc>) {}

  static async open(db: Db, collectionPrefix = ''): Promise<MongoScheduleStore> {
    const schedules = db.collection<ScheduleDoc>(`${collectionPrefix}schedules`, { writeConcern: { w: 'majority', journal: true } });
    await ensureIndexes(schedules, SCHEDULE_INDEXES);
    return new MongoScheduleStore(schedules);
  }

  async create(schedule: NewSchedule, id = `sched-${randomUUID()}`): Promise<ScheduleRecord> {
    const doc: ScheduleDoc = {
      _id: id,
      ...definitionFields(schedule),
      pending: [],
      fence: 0,
      fired: 0,
      lastJobId: null,
      lastRunAt: null,
      createdAt: new Date(),
      version: 0,
    };
    await this.schedules.insertOne(doc);
    return fromDoc(doc);
  }

  /**
   * Replaces a schedule's definition (timing, plan, backup request, paused) and starts it again from
   * its new first run, keeping its id, history (fired, last run) and any runs already claimed. The
   * version moves on, so a scheduler's claim read before the edit loses. Undefined if there is none.
   */
  async replace(id: string, schedule: NewSchedule): Promise<ScheduleRecord | undefined> {
    const updated = await this.schedules.findOneAndUpdate(
      { _id: id },
      {
        $set: definitionFields(schedule),
        $inc: { version: 1 },
      },
      { returnDocument: 'after' },
    );
    return updated ? fromDoc(updated) : undefined;
  }

  async get(id: string): Promise<ScheduleRecord | undefined> {
    const doc = await this.schedules.findOne({ _id: id });
    return doc ? fromDoc(doc) : undefined;
  }

  async list(): Promise<ScheduleRecord[]> {
    return (await this.schedules.find({}).sort({ createdAt: 1, _id: 1 }).toArray()).map(fromDoc);
  }

  /** Deletes a schedule; false if there was none. */
  async delete(id: string): Promise<boolean> {
    return (await this.schedules.deleteOne({ _id: id })).deletedCount === 1;
  }

  /**
   * Pauses a schedule, or resumes it from `now`: runs due while it was paused never fire.
   * Undefined if there is no such schedule.
   */
  async setPaused(id: string, paused: boolean, now = new Date()): Promise<ScheduleRecord | undefined> {
    const doc = await this.schedules.findOne({ _id: id });
    if (!doc) return undefined;
    if ((doc.paused ?? false) === paused) return fromDoc(doc);
    const resumeAt = !paused && doc.nextRunAt && doc.nextRunAt.getTime() < now.getTime() ? now : doc.nextRunAt;
    const updated = await this.schedules.findOneAndUpdate({ _id: id }, { $set: { paused, nextRunAt: resumeAt }, $inc: { version: 1 } }, { returnDocument: 'after' });
    return updated ? fromDoc(updated) : undefined;
  }

  /** Unpaused schedules with a run due at or before `now`, or with claimed runs still pending; earliest first. */
  async due(now: Date, limit = 100): Promise<ScheduleRecord[]> {
    const docs = await this.schedules
      .find({ paused: { $ne: true }, $or: [{ nextRunAt: { $ne: null, $lte: now } }, { 'pending.0': { $exists: true } }] })
      .sort({ nextRunAt: 1 })
      .limit(limit)
      .toArray();
    return docs.map(fromDoc);
  }

  /**
   * Claims the runs due at `fire` and moves the schedule on to `next` (null: it has ended), if it is
   * still at the version read and no leader with a token above `fence` claimed it since. The
   * updated schedule, or undefined if the claim lost.
   */
  async claim(schedule: ScheduleRecord, fire: readonly Date[], next: Date | null, fence: number): Promise<ScheduleRecord | undefined> {
    const updated = await this.schedules.findOneAndUpdate(
      { _id: schedule.id, version: schedule.version, $or: [{ fence: { $exists: false } }, { fence: { $lte: fence } }] },
      { $set: { nextRunAt: next, fence, version: schedule.version + 1 }, $push: { pending: { $each: [...fire] } } },
      { returnDocument: 'after' },
    );
    return updated ? fromDoc(updated) : undefined;
  }

  /** Records that the pending run due at `due` is job `jobId`; false if it was no longer pending. */
  async fired(scheduleId: string, due: Date, jobId: string, now = new Date()): Promise<boolean> {
    const r = await this.schedules.updateOne({ _id: scheduleId, pending: due }, { $pull: { pending: due }, $inc: { fired: 1 }, $set: { lastJobId: jobId, lastRunAt: now } });
    return r.modifiedCount === 1;
  }
}

function fromDoc(doc: ScheduleDoc): ScheduleRecord {
  return {
    id: doc._id,
    kind: doc.kind,
    everyMs: doc.everyMs,
    cron: doc.cron ?? null,
    timezone: doc.timezone ?? 'UTC',
    plan: doc.plan ?? [],
    jitterMs: doc.jitterMs ?? 0,
    catchUp: doc.catchUp ?? 'skip',
    paused: doc.paused ?? false,
    backup: doc.backup,
    nextRunAt: doc.nextRunAt ? doc.nextRunAt.toISOString() : null,
    anchor: doc.anchor ? doc.anchor.toISOString() : null,
    pending: (doc.pending ?? []).map((d) => d.toISOString()),
    fired: doc.fired,
    lastJobId: doc.lastJobId,
    lastRunAt: doc.lastRunAt ? doc.lastRunAt.toISOString() : null,
    createdAt: doc.createdAt.toISOString(),
    version: doc.version,
  };
}
