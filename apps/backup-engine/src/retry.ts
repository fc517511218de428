import type { BackupRecord } from '@tresor/catalog';
import { TresorError, UnavailableError } from '@tresor/errors';
import { ARCHIVE_PREFIX, MANIFEST_PREFIX, ownerOfObject } from '@tresor/repository';

/** How often a job is attempted, and the pauses before its second and later attempts (ADR 34). */
export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly backoffMs: readonly number[];
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 3, backoffMs: [2_000, 10_000] };

/** Answers whether a backup was committed: the catalog records it. Throws when it cannot tell. */
export interface CommitLedger {
  committed(backupId: string): Promise<BackupRecord | undefined>;
}

/** What a failed attempt did before it failed, read from the keys it asked the store to put. */
export interface FailedAttempt {
  readonly error: unknown;
  /** The keys the attempt put or began to put (fencedStore's `written`). */
  readonly written: ReadonlySet<string>;
  /** This delivery of the job, 1 for its first attempt. */
  readonly attempt: number;
}

/** The job completes with a backup the attempt committed, is tried again, or fails. */
export type RetryDecision =
  | { readonly kind: 'committed'; readonly backup: BackupRecord }
  | { readonly kind: 'retry'; readonly afterMs: number }
  | { readonly kind: 'fail'; readonly why: string };

/**
 * Decides what follows a failed backup attempt without ever making a second backup of one job: an
 * attempt that reached its commit (the manifest put) may have committed with only a reply lost, so
 * the catalog is asked first, and a committed backup completes the job. Otherwise a transient
 * failure (a request without reply, a dependency unreachable, an untyped error) is tried again
 * while the budget lasts; the caller discards the attempt's objects before it retries or fails.
 */
export async function decideAfterFailure(failed: FailedAttempt, ledger: CommitLedger, policy: RetryPolicy = DEFAULT_RETRY_POLICY): Promise<RetryDecision> {
  const backupId = backupIdOf(failed.written);
  if (backupId && reachedCommit(failed.written)) {
    let backup: BackupRecord | undefined;
    try {
      backup = await ledger.committed(backupId);
    } catch (err) {
      // Retrying could make a second backup of this job, and failing is the safe outcome.
      return { kind: 'fail', why: `cannot tell whether backup ${backupId} was committed: ${(err as Error).message}` };
    }
    if (backup) return { kind: 'committed', backup };
  }
  if (!isTransient(failed.error)) return { kind: 'fail', why: 'not a transient failure' };
  if (failed.attempt >= policy.maxAttempts) return { kind: 'fail', why: `attempt ${failed.attempt} of ${policy.maxAttempts}` };
  const pauses = policy.backoffMs;
  return { kind: 'retry', afterMs: pauses[Math.min(failed.attempt - 1, pauses.length - 1)] ?? 0 };
}

/**
 * A failure worth another attempt: a request without reply or a dependency that could not be
 * reached (UNAVAILABLE: the bus restarted, its reply or request was lost), or an error nobody
 * typed (a JetStream publish timeout). Typed failures (a refused commit, bad data, a full disk,
 * a superseded claim) would fail again the same way.
 */
export function isTransient(err: unknown): boolean {
  return err instanceof UnavailableError || !(err instanceof TresorError);
}

/** The backup id of an attempt: the owner of its archive key, once the archive put began. */
export function backupIdOf(written: ReadonlySet<string>): string | undefined {
  for (const key of written) if (key.startsWith(ARCHIVE_PREFIX)) return ownerOfObject(key) ?? undefined;
  return undefined;
}

/** The attempt began its manifest put, the commit point: from here on it may have committed. */
function reachedCommit(written: ReadonlySet<string>): boolean {
  return [...written].some((key) => key.startsWith(MANIFEST_PREFIX));
}
