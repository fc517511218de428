import { randomUUID } from 'node:crypto';
import type { Collection, Db } from 'mongodb';
import type { ScheduleRecord } from '@tresor/contracts';
import { ensureIndexes } from './indexes.js';

interface ScheduleDoc {
  _id: string;
  kind: 'once' | 'interval';
  everyMs: number | null;
  backup: Record<string, unknown>;
  /** Null once a one-off schedule has fired. */
  nextRunAt: Date | null;
  fired: number;
  lastJobId: string | null;
  lastRunAt: Date | null;
  createdAt: Date;
  version: number;
}

export interface NewSchedule {
  readonly kind: 'once' | 'interval';
  /** once: the time; interval: the first run. */
  readonly firstRunAt: Date;
  readonly everyMs?: number | null;
  readonly backup: Record<string, unknown>;
}

export const SCHEDULE_INDEXES = [{ key: { nextRunAt: 1 }, name: 'by_next_run' }] as const;

/**
 * One-off and interval schedules next to the job store. Firing number `n` of a schedule submits
 * its job with the idempotency key `schedule:<id>:<n>`, so a firing repeated after a crash (or by
 * a second scheduler racing) never creates a second job; `markFired` advances with the version
 * the scheduler read.
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
      kind: schedule.kind,
      everyMs: schedule.kind === 'interval' ? (schedule.everyMs ?? null) : null,
      backup: schedule.backup,
      nextRunAt: schedule.firstRunAt,
      fired: 0,
      lastJobId: null,
      lastRunAt: null,
      createdAt: new Date(),
      version: 0,
    };
    await this.schedules.insertOne(doc);
    return fromDoc(doc);
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

  /** Schedules whose next run is at or before `now`, earliest first. */
  async due(now: Date, limit = 100): Promise<ScheduleRecord[]> {
    return (await this.schedules.find({ nextRunAt: { $ne: null, $lte: now } }).sort({ nextRunAt: 1 }).limit(limit).toArray()).map(fromDoc);
  }

  /**
   * Records firing `schedule.fired + 1` (its job `jobId`) and moves the next run on: one-offs end,
   * intervals skip runs missed while no scheduler ran. False if the schedule changed or was deleted.
   */
  async markFired(schedule: ScheduleRecord, jobId: string, now: Date): Promise<boolean> {
    let next: Date | null = null;
    if (schedule.kind === 'interval' && schedule.everyMs && schedule.nextRunAt) {
      const due = Date.parse(schedule.nextRunAt);
      const periods = Math.max(1, Math.floor((now.getTime() - due) / schedule.everyMs) + 1);
      next = new Date(due + periods * schedule.everyMs);
    }
    const r = await this.schedules.updateOne(
      { _id: schedule.id, version: schedule.version },
      { $set: { nextRunAt: next, fired: schedule.fired + 1, lastJobId: jobId, lastRunAt: now, version: schedule.version + 1 } },
    );
    return r.modifiedCount === 1;
  }
}

/** The idempotency key of firing `n` (1-based) of a schedule. */
export function scheduleFiringKey(scheduleId: string, n: number): string {
  return `schedule:${scheduleId}:${n}`;
}

function fromDoc(doc: ScheduleDoc): ScheduleRecord {
  return {
    id: doc._id,
    kind: doc.kind,
    everyMs: doc.everyMs,
    backup: doc.backup,
    nextRunAt: doc.nextRunAt ? doc.nextRunAt.toISOString() : null,
    fired: doc.fired,
    lastJobId: doc.lastJobId,
    lastRunAt: doc.lastRunAt ? doc.lastRunAt.toISOString() : null,
    createdAt: doc.createdAt.toISOString(),
    version: doc.version,
  };
}
