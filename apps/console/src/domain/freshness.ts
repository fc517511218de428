// How fresh a source's last backup is, judged like the monitoring service's freshness check:
// against the RPO (26 h unless the cluster configures another), overdue past twice the RPO. Users
// who may read alerts get the monitoring service's verdict, which knows each source's own RPO.

/** monitoring's default RPO (docs/monitoring.md, `freshness.rpoHours`). */
export const DEFAULT_RPO_HOURS = 26;

export type Freshness = 'fresh' | 'stale' | 'overdue' | 'never';

/**
 * The freshness of a source whose last backup completed at `last` (undefined: never backed up).
 * A firing `check-freshness` alert of the monitoring service (its own RPO for the source) decides
 * when there is one: WARNING is stale, CRITICAL overdue.
 */
export function freshnessOf(last: string | undefined, now: Date, alertLevel?: string, rpoHours = DEFAULT_RPO_HOURS): Freshness {
  if (alertLevel === 'CRITICAL') return last ? 'overdue' : 'never';
  if (alertLevel === 'WARNING') return 'stale';
  if (!last) return 'never';
  const ageHours = (now.getTime() - Date.parse(last)) / 3_600_000;
  if (ageHours <= rpoHours) return 'fresh';
  return ageHours <= 2 * rpoHours ? 'stale' : 'overdue';
}

/** The badge tone of a freshness. */
export const FRESHNESS_TONE = { fresh: 'ok', stale: 'warn', overdue: 'bad', never: 'bad' } as const;
