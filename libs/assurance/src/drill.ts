import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AlertManager } from '@tresor/alerting';
import type { BackupRecord } from '@tresor/catalog';
import { NotFoundError } from '@tresor/errors';
import type { Repository } from '@tresor/repository';
import { runRestore, verifyBackup } from '@tresor/repository';
import type { DrillRecord, DrillStore } from './results.js';

const DAY_MS = 86_400_000;

/** The alert rule of a failed drill (CRITICAL), resolved by the next successful drill of the source. */
export const DRILL_RULE = 'restore-drill-failed';

export interface DrillOptions {
  /** Only this source (location); default every source in the catalog. */
  readonly sources?: readonly string[];
  /** Pick a random backup created within this many days instead of the latest. */
  readonly randomWithinDays?: number;
  /** Parent of the scratch directories (default the system temp dir). */
  readonly scratchParent?: string;
  readonly random?: () => number;
  readonly now?: () => number;
}

/** Which backup a drill restores: the latest, or a random one created within the window (the latest if none is). */
export function pickBackup(backups: readonly BackupRecord[], options: Pick<DrillOptions, 'randomWithinDays' | 'random'>, now: number): { backup: BackupRecord; pick: 'latest' | 'random' } | undefined {
  const sorted = [...backups].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  if (sorted.length === 0) return undefined;
  if (options.randomWithinDays === undefined) return { backup: sorted[0]!, pick: 'latest' };
  const within = sorted.filter((b) => now - Date.parse(b.createdAt) <= options.randomWithinDays! * DAY_MS);
  if (within.length === 0) return { backup: sorted[0]!, pick: 'latest' };
  return { backup: within[Math.floor((options.random ?? Math.random)() * within.length)]!, pick: 'random' };
}

/**
 * Restore drills (docs/monitoring.md): for each source, restores the picked backup into a fresh
 * scratch directory (every file is checked against its SHA-256 as it is written), then checks
 * every entry of the stored archive once more (deep verify), measures the RTO, removes the scratch
 * copy, records the result, and raises CRITICAL `restore-drill-failed` on failure (resolved by the
 * next passing drill of that source).
 */
export async function runDrills(repo: Repository, store: DrillStore, alerts: AlertManager | undefined, options: DrillOptions = {}): Promise<DrillRecord[]> {
  const now = options.now ?? Date.now;
  const sources = (await repo.catalog.listSources()).filter((s) => !options.sources || options.sources.includes(s.location));
  if (options.sources) {
    const missing = options.sources.filter((l) => !sources.some((s) => s.location === l));
    if (missing.length > 0) throw new NotFoundError(`no backups of source ${missing[0]} in this repository`);
  }
  const records: DrillRecord[] = [];
  for (const source of sources) {
    const picked = pickBackup(await repo.catalog.listBackups({ sourceId: source.id }), options, now());
    if (!picked) continue;
    const record = await drillOne(repo, source.location, picked.backup, picked.pick, options, now);
    await store.add(record);
    records.push(record);
    if (alerts) {
      if (record.ok) await alerts.resolve({ rule: DRILL_RULE, source: record.source });
      else
        await alerts.raise({
          rule: DRILL_RULE,
          level: 'CRITICAL',
          source: record.source,
          summary: `restore drill of ${record.source} (backup ${record.backupId}) failed: ${record.problem}`,
          details: { drillId: record.id, backupId: record.backupId, startedAt: record.startedAt },
        });
    }
  }
  return records;
}

async function drillOne(repo: Repository, source: string, backup: BackupRecord, pick: 'latest' | 'random', options: DrillOptions, now: () => number): Promise<DrillRecord> {
  const startedMs = now();
  const base = { id: randomUUID(), source, backupId: backup.id, pick, startedAt: new Date(startedMs).toISOString() };
  const scratch = await mkdtemp(join(options.scratchParent ?? tmpdir(), 'tresor-drill-'));
  try {
    const restored = await runRestore(repo, backup, { target: join(scratch, 'restore') });
    const rtoSeconds = Math.max(0, (now() - startedMs) / 1000);
    const verified = await verifyBackup(repo, backup, { deep: true });
    const finishedAt = new Date(now()).toISOString();
    const common = { ...base, finishedAt, rtoSeconds, files: restored.files, bytes: restored.bytes, entriesVerified: verified.entriesChecked };
    return verified.ok ? { ...common, ok: true } : { ...common, ok: false, problem: verified.problem ?? 'deep verify failed' };
  } catch (err) {
    return { ...base, finishedAt: new Date(now()).toISOString(), rtoSeconds: Math.max(0, (now() - startedMs) / 1000), ok: false, files: 0, bytes: 0, entriesVerified: 0, problem: (err as Error).message };
  } finally {
    // The scratch copy holds decrypted secrets: it goes whatever happened.
    await rm(scratch, { recursive: true, force: true });
  }
}
