import type { Collection, Db, Filter } from 'mongodb';
import { IoError } from '@tresor/errors';
import type { Alert } from '../alert.js';
import { alertSchema, levelRank } from '../alert.js';
import type { AlertHistory, AlertQuery } from './history.js';
import { DEFAULT_QUERY_LIMIT } from './history.js';

/** One occurrence: the alert plus the fields queries use, as dates and ranks. */
interface AlertDoc {
  _id: string;
  alert: Alert;
  levelRank: number;
  state: Alert['state'];
  rule: string;
  source: string | null;
  raisedAt: Date;
  /** null while firing (stored, not missing, so `{resolvedAt: null}` matches on FerretDB too). */
  resolvedAt: Date | null;
}

const INDEXES = [
  { key: { raisedAt: -1 }, name: 'by_raised' },
  { key: { state: 1, raisedAt: -1 }, name: 'by_state_raised' },
] as const;

/** Alert history in MongoDB (cluster mode), collection `<prefix>alerts`. */
export class MongoAlertHistory implements AlertHistory {
  private constructor(private readonly alerts: Collection<AlertDoc>) {}

  /** Opens the collection in `db`, creating its indexes if they are missing. */
  static async open(db: Db, collectionPrefix = ''): Promise<MongoAlertHistory> {
    const alerts = db.collection<AlertDoc>(`${collectionPrefix}alerts`, { writeConcern: { w: 'majority' } });
    let existing: string[] = [];
    try {
      existing = (await alerts.indexes()).map((i) => String(i.name));
    } catch (err) {
      if (!/ns does not exist|NamespaceNotFound/i.test((err as Error).message)) throw err;
    }
    // Only missing indexes are created: FerretDB v1 fails on re-creating an existing compound index.
    for (const index of INDEXES) if (!existing.includes(index.name)) await alerts.createIndex({ ...index.key }, { name: index.name });
    return new MongoAlertHistory(alerts);
  }

  async record(alert: Alert): Promise<void> {
    const doc: AlertDoc = {
      _id: alert.id,
      alert,
      levelRank: levelRank(alert.level),
      state: alert.state,
      rule: alert.rule,
      source: alert.source ?? null,
      raisedAt: new Date(alert.raisedAt),
      resolvedAt: alert.resolvedAt ? new Date(alert.resolvedAt) : null,
    };
    try {
      await this.alerts.replaceOne({ _id: alert.id }, doc, { upsert: true });
    } catch (err) {
      throw new IoError(`cannot write alert ${alert.id} to MongoDB: ${(err as Error).message}`, { cause: err });
    }
  }

  async query(q: AlertQuery = {}): Promise<Alert[]> {
    const filter: Filter<AlertDoc> = {};
    if (q.levels) filter.levelRank = { $in: q.levels.map((l) => levelRank(l)) };
    if (q.state) filter.state = q.state;
    if (q.rule) filter.rule = q.rule;
    if (q.source) filter.source = q.source;
    if (q.until) filter.raisedAt = { $lt: q.until };
    if (q.since) filter.$or = [{ resolvedAt: null }, { resolvedAt: { $gte: q.since } }];
    try {
      const docs = await this.alerts
        .find(filter)
        .sort({ raisedAt: -1, _id: 1 })
        .limit(q.limit ?? DEFAULT_QUERY_LIMIT)
        .toArray();
      return docs.map((d) => alertSchema.parse(d.alert));
    } catch (err) {
      throw new IoError(`cannot read alert history from MongoDB: ${(err as Error).message}`, { cause: err });
    }
  }

  async close(): Promise<void> {}
}
