// Per-day aggregation for the 30-day chart: backup job outcomes and bytes backed up, by the user's local day.
import type { BackupRecord, JobRecord } from './types';

/** One day of the chart. */
export interface DayBucket {
  /** Local date, YYYY-MM-DD. */
  day: string;
  succeeded: number;
  failed: number;
  bytesIn: number;
  bytesStored: number;
}

/** The local calendar day of a time, YYYY-MM-DD. */
export function localDay(time: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${time.getFullYear()}-${pad(time.getMonth() + 1)}-${pad(time.getDate())}`;
}

/** The last `days` local days ending today, oldest first, each with its counts and sizes. */
export function dailyBuckets(now: Date, days: number, jobs: readonly JobRecord[], backups: readonly BackupRecord[]): DayBucket[] {
  const buckets: DayBucket[] = [];
  const index = new Map<string, DayBucket>();
  for (let i = days - 1; i >= 0; i--) {
    const d = new Date(now.getFullYear(), now.getMonth(), now.getDate() - i);
    const bucket = { day: localDay(d), succeeded: 0, failed: 0, bytesIn: 0, bytesStored: 0 };
    buckets.push(bucket);
    index.set(bucket.day, bucket);
  }
  for (const job of jobs) {
    if (job.kind !== 'backup' || (job.state !== 'completed' && job.state !== 'failed')) continue;
    const bucket = index.get(localDay(new Date(job.updatedAt)));
    if (!bucket) continue;
    if (job.state === 'completed') bucket.succeeded += 1;
    else bucket.failed += 1;
  }
  for (const backup of backups) {
    const bucket = index.get(localDay(new Date(backup.completedAt)));
    if (!bucket) continue;
    bucket.bytesIn += backup.bytesIn;
    bucket.bytesStored += backup.bytesStored;
  }
  return buckets;
}

/** A round upper bound for an axis, at least `value`: 1, 2 or 5 × a power of ten times a unit (1, or a power of 1024 for bytes). */
export function niceMax(value: number, base: 10 | 1024 = 10): number {
  if (value <= 0) return 1;
  let unit = 1;
  if (base === 1024) while (unit * 1024 <= value) unit *= 1024;
  const scaled = value / unit;
  let decade = 1;
  while (decade * 10 < scaled) decade *= 10;
  for (const step of [1, 2, 5, 10]) if (step * decade >= scaled) return step * decade * unit;
  return 10 * decade * unit;
}
