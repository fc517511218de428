import type { Alert, AlertLevel, AlertState } from '../alert.js';

/** Which alerts to list; every field narrows the result. */
export interface AlertQuery {
  readonly levels?: readonly AlertLevel[];
  readonly state?: AlertState;
  /** Alerts that were firing at some time since then: raised before `until` and not resolved before `since`. */
  readonly since?: Date;
  readonly until?: Date;
  readonly rule?: string;
  readonly source?: string;
  /** At most this many, newest raised first (default 1000). */
  readonly limit?: number;
}

/** Where alert occurrences are kept: one record per occurrence, replaced on every change. */
export interface AlertHistory {
  record(alert: Alert): Promise<void>;
  query(query?: AlertQuery): Promise<Alert[]>;
  close(): Promise<void>;
}

export const DEFAULT_QUERY_LIMIT = 1000;

/** Whether an alert matches a query (the in-memory store and the conformance suite's oracle). */
export function matchesQuery(a: Alert, q: AlertQuery): boolean {
  if (q.levels && !q.levels.includes(a.level)) return false;
  if (q.state && a.state !== q.state) return false;
  if (q.rule && a.rule !== q.rule) return false;
  if (q.source && a.source !== q.source) return false;
  if (q.until && Date.parse(a.raisedAt) >= q.until.getTime()) return false;
  if (q.since && a.resolvedAt !== undefined && Date.parse(a.resolvedAt) < q.since.getTime()) return false;
  return true;
}

/** A history kept in memory, for tests and for a manager that needs none persisted. */
export class MemoryAlertHistory implements AlertHistory {
  private readonly alerts = new Map<string, Alert>();

  async record(alert: Alert): Promise<void> {
    this.alerts.set(alert.id, structuredClone(alert));
  }

  async query(q: AlertQuery = {}): Promise<Alert[]> {
    return [...this.alerts.values()]
      .filter((a) => matchesQuery(a, q))
      .sort((a, b) => Date.parse(b.raisedAt) - Date.parse(a.raisedAt) || (a.id < b.id ? -1 : 1))
      .slice(0, q.limit ?? DEFAULT_QUERY_LIMIT)
      .map((a) => structuredClone(a));
  }

  async close(): Promise<void> {}
}
