import type { Entry } from '@tresor/archive';
import type { BackupRecord } from '@tresor/catalog';
import { ConflictError } from '@tresor/errors';
import { KEYRING_PREFIX } from '../keyring/keyring.js';
import type { Repository } from '../repository.js';
import { lockProbeOf } from './object-locks.js';
import type { LockProbe } from './object-locks.js';
import { selectRetention } from './select.js';
import type { PolicyChoice, RetentionDecision } from './select.js';

export interface ForgetOptions {
  /** The policy of every source, or per source id. */
  readonly policy: PolicyChoice;
  /** Only backups of this source id. */
  readonly sourceId?: string;
  /** Decide and report, change nothing. */
  readonly dryRun: boolean;
  /** The clock retention_days and locks are judged by (default: now). */
  readonly now?: Date;
  /** Asks storage until when objects are locked; default: the repository's store (`retainedUntil`). */
  readonly locks?: LockProbe;
}

/** An object of a forgotten backup left in storage, for a later prune/fsck. */
export interface LeftObject {
  readonly backupId: string;
  readonly key: string;
  readonly reason: string;
}

export interface ForgetReport {
  /** Every backup considered, oldest first, with what happened to it. */
  readonly decisions: RetentionDecision<BackupRecord & { lockedUntil?: Date }>[];
  /** Backups removed from the catalog and storage (empty on a dry run). */
  readonly removed: readonly string[];
  /** Objects of removed backups that could not be deleted; no catalog entry refers to them. */
  readonly leftovers: readonly LeftObject[];
}

/**
 * Applies a retention policy (docs/retention.md). Each forgotten backup goes newest first — a
 * backup's dependants are newer than it, and none of them stays — in the reverse of the order it
 * was written (ADR 9): catalog entry, manifest (the commit point), keyrings, archive. A crash
 * therefore never leaves a catalog entry without its objects; at worst it leaves objects without
 * a catalog entry (a complete backup that `catalog rebuild` would list again, or an archive
 * without a manifest, which is garbage). A delete storage refuses because of a WORM lock puts
 * the catalog entry back and reports the backup as deferred.
 */
export async function runForget(repo: Repository, options: ForgetOptions): Promise<ForgetReport> {
  const now = options.now ?? new Date();
  const backups = await repo.catalog.listBackups(options.sourceId ? { sourceId: options.sourceId } : {});
  // The policy is checked here, before storage is asked anything.
  const first = selectRetention(backups, options.policy, now);
  const going = first.filter((d) => d.action === 'forget').map((d) => d.backup);
  if (going.length === 0) return { decisions: first, removed: [], leftovers: [] };

  const locks = options.locks ?? lockProbeOf(repo.store);
  // Locks only turn "forget" into "deferred", so only the backups the rules drop need asking.
  const lockedUntil = new Map<string, Date>();
  for (const backup of locks.locations > 0 ? going : []) {
    const until = await latestLock(repo, locks, backup);
    if (until && until > now) lockedUntil.set(backup.id, until);
  }
  const decisions = selectRetention(
    backups.map((b) => (lockedUntil.has(b.id) ? { ...b, lockedUntil: lockedUntil.get(b.id)! } : b)),
    options.policy,
    now,
  );
  if (options.dryRun) return { decisions, removed: [], leftovers: [] };

  const removed: string[] = [];
  const leftovers: LeftObject[] = [];
  const refused = new Map<string, string>();
  const forget = decisions.filter((d) => d.action === 'forget').reverse();
  for (const { backup } of forget) {
    const outcome = await forgetOne(repo, backup, leftovers);
    if (outcome === 'removed') removed.push(backup.id);
    else refused.set(backup.id, outcome.refused);
  }
  return {
    decisions: decisions.map((d) =>
      refused.has(d.backup.id)
        ? { backup: d.backup, action: 'deferred', reasons: [...d.reasons, `deferred: ${refused.get(d.backup.id)}`] }
        : d,
    ),
    removed,
    leftovers,
  };
}

async function latestLock(repo: Repository, locks: LockProbe, backup: BackupRecord): Promise<Date | undefined> {
  const keys = [backup.manifestKey, backup.archiveKey];
  for await (const info of repo.store.list(`${KEYRING_PREFIX}${backup.id}/`)) keys.push(info.key);
  let latest: Date | undefined;
  for (const key of keys) {
    const until = await locks.retainedUntil(key);
    if (until && (!latest || until > latest)) latest = until;
  }
  return latest;
}

async function forgetOne(
  repo: Repository,
  backup: BackupRecord,
  leftovers: LeftObject[],
): Promise<'removed' | { refused: string }> {
  // Kept in memory so that the entry can be put back if storage refuses the manifest's delete.
  const entries: Entry[] = [];
  for await (const entry of repo.catalog.entries(backup.id)) entries.push(entry);
  await repo.catalog.deleteBackup(backup.id);
  try {
    await repo.store.delete(backup.manifestKey);
  } catch (err) {
    await repo.catalog.addBackup(backup, entries);
    if (err instanceof ConflictError) return { refused: err.message };
    throw err;
  }
  // From here on the backup is gone; what storage keeps is an orphan, not a broken backup.
  const rest: string[] = [];
  for await (const info of repo.store.list(`${KEYRING_PREFIX}${backup.id}/`)) rest.push(info.key);
  rest.push(backup.archiveKey);
  for (const key of rest) {
    try {
      await repo.store.delete(key);
    } catch (err) {
      leftovers.push({ backupId: backup.id, key, reason: (err as Error).message });
    }
  }
  return 'removed';
}
