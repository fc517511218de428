import type { RetentionCandidate } from './select.js';

/** A generated backup, as the retention tests see it. */
export interface GeneratedBackup extends RetentionCandidate {
  readonly level: 'full' | 'differential' | 'incremental';
  readonly lockedUntil?: Date;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Small deterministic PRNG (mulberry32), so the history is the same on every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Two years of backups of one source ending just before `end`: a full every Sunday 01:00 UTC, a
 * differential every Wednesday, incrementals on the other days, and for the last three days an
 * incremental every hour. Each backup reads its own archive and, like the real engine, some of
 * the archives along its chain (always its full). The monthly fulls of the first Sunday are
 * WORM-locked for 400 days; some backups carry the tag `pre-upgrade`.
 */
export function generateHistory(sourceId: string, end: Date, seed = 1): GeneratedBackup[] {
  const next = random(seed);
  const result: GeneratedBackup[] = [];
  let full: GeneratedBackup | undefined;
  let chain: GeneratedBackup[] = [];
  const add = (time: number, hourly: boolean) => {
    const date = new Date(time);
    const weekday = date.getUTCDay();
    const level = !full || (!hourly && weekday === 0) ? 'full' : !hourly && weekday === 3 ? 'differential' : 'incremental';
    const id = `${sourceId}-${date.toISOString().replace(/[-:]|\.\d+/g, '')}`;
    let data: string[] = [id];
    if (level === 'differential') data = [id, full!.id];
    if (level === 'incremental') {
      // Content unchanged since some earlier backup of the chain stays in that backup's archive.
      data = [id, full!.id, ...chain.filter(() => next() < 0.3).map((b) => b.id)];
    }
    const locked = level === 'full' && date.getUTCDate() <= 7 && !hourly;
    const backup: GeneratedBackup = {
      id,
      sourceId,
      createdAt: date.toISOString(),
      level,
      tags: next() < 0.02 ? ['pre-upgrade'] : [],
      dataBackupIds: [...new Set(data)],
      ...(locked ? { lockedUntil: new Date(time + 400 * DAY) } : {}),
    };
    if (level === 'full') {
      full = backup;
      chain = [backup];
    } else if (level === 'differential') {
      chain = [full!, backup];
    } else chain.push(backup);
    result.push(backup);
  };
  const start = Date.UTC(end.getUTCFullYear() - 2, end.getUTCMonth(), end.getUTCDate(), 1);
  const hourlyFrom = end.getTime() - 3 * DAY;
  for (let t = start; t < hourlyFrom; t += DAY) add(t + Math.floor(next() * 20) * 60_000, false);
  for (let t = Math.ceil(hourlyFrom / HOUR) * HOUR; t < end.getTime(); t += HOUR) add(t + 5 * 60_000, true);
  return result;
}
