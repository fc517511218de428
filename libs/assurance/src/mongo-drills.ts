import type { Db, Filter } from 'mongodb';
import { drillRecordSchema } from '@tresor/contracts';
import type { DrillRecord } from '@tresor/contracts';
import type { DrillStore } from './results.js';

/** Which drills to list; every field narrows the result. */
export interface DrillQuery {
  readonly source?: string;
  readonly outcome?: 'ok' | 'failed';
  /** Drills that finished at or after this time. */
  readonly since?: Date;
  /** At most this many, newest finished first (default: all, oldest first). */
  readonly limit?: number;
}

type DrillDoc = DrillRecord & { _id: string };

/** Drill results of a cluster: the `drills` collection, one document per drill (its id is `_id`). */
export class MongoDrillStore implements DrillStore {
  constructor(private readonly db: Db) {}

  async add(record: DrillRecord): Promise<void> {
    await this.db.collection<DrillDoc>('drills').insertOne({ _id: record.id, ...drillRecordSchema.parse(record) });
  }

  async list(): Promise<DrillRecord[]> {
    return this.query({});
  }

  /** Drills matching the query; with a limit the newest come first. */
  async query(q: DrillQuery): Promise<DrillRecord[]> {
    const filter: Filter<DrillDoc> = {};
    if (q.source) filter.source = q.source;
    if (q.outcome) filter.ok = q.outcome === 'ok';
    // finishedAt is an ISO string in UTC: string order is time order.
    if (q.since) filter.finishedAt = { $gte: q.since.toISOString() };
    let cursor = this.db.collection<DrillDoc>('drills').find(filter).sort({ finishedAt: q.limit ? -1 : 1 });
    if (q.limit) cursor = cursor.limit(q.limit);
    return (await cursor.toArray()).flatMap((d) => {
      const parsed = drillRecordSchema.safeParse(d);
      return parsed.success ? [parsed.data] : [];
    });
  }
}
