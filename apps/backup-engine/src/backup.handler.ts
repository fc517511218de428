import { loadManifest, runBackup } from '@tresor/repository';
import type { BackupResult, Repository } from '@tresor/repository';
import { FilesystemSource } from '@tresor/source';
import type { BackupJob, JobRecord } from '@tresor/contracts';
import { EVENTS } from '@tresor/contracts';
import type { MongoJobStore } from '@tresor/catalog';
import { ConflictError, TresorError } from '@tresor/errors';
import type { Bus, JobContext, JobOutcome } from '@tresor/messaging';
import type { RemoteObjectStore } from '@tresor/messaging';
import type { BackupRecord, Catalog } from '@tresor/catalog';
import { holdLease } from '@tresor/scheduling';
import type { HeldLease, Lease } from '@tresor/scheduling';
import type { CodecName } from './types.js';
import { discardUncommitted } from './discard.js';
import { decideAfterFailure } from './retry.js';
import type { RetryPolicy } from './retry.js';
import { fencedStore } from './fenced.js';
import { throttledStore } from './throttle.js';
import { BackupStages } from './stages.js';
import { trace } from '@opentelemetry/api';
import { tracedStore } from '@tresor/storage';

const PROGRESS_EVERY_FILES = 1000;

export interface BackupHandlerDeps {
  readonly bus: Bus;
  readonly jobs: MongoJobStore;
  readonly catalog: Catalog;
  readonly store: RemoteObjectStore;
  readonly worker: string;
  /** Per-source locks: two backups of one source never run at once (none without Redis). */
  readonly sourceLease?: Lease;
  readonly sourceLeaseTtlMs?: number;
  /** Attempts per job and pauses between them for transient failures (retry.ts; at most the consumer's maxDeliver). */
  readonly retryPolicy?: RetryPolicy;
  /** Test-only: delay per 64 KiB of archive upload (see throttle.ts). */
  readonly uploadDelayMs?: number;
  openRepository(store: RemoteObjectStore): Promise<Repository>;
}

/**
 * Runs one backup job while holding its source's lock: a second job for the same source waits
 * (telling the queue it is alive) until the first is done, whoever submitted either.
 */
export async function handleBackupJob(deps: BackupHandlerDeps, job: BackupJob, ctx: JobContext): Promise<JobOutcome> {
  if (!deps.sourceLease) return runBackupJob(deps, job, ctx, undefined);
  const name = `source:${job.source.kind}:${job.source.location}`;
  let told = false;
  const held = await holdLease(deps.sourceLease, name, `${deps.worker}/${job.jobId}`.replaceAll('#', '_'), {
    ttlMs: deps.sourceLeaseTtlMs ?? 30_000,
    onWait: (holder) => {
      ctx.working();
      if (!told) ctx.logger.info({ lock: name, holder: holder?.owner }, 'waiting for another backup of this source to finish');
      told = true;
    },
  });
  try {
    return await runBackupJob(deps, job, ctx, held);
  } finally {
    await held.release().catch(() => undefined);
  }
}

/** Runs one backup job idempotently: a finished job is acked without work; a superseded claim backs off. */
async function runBackupJob(deps: BackupHandlerDeps, job: BackupJob, ctx: JobContext, held: HeldLease | undefined): Promise<JobOutcome> {
  const { bus, jobs } = deps;
  const t = { subject: job.jobId, traceparent: ctx.traceparent };
  let claimed: JobRecord | undefined = await jobs.claim(job.jobId, deps.worker);
  if (!claimed) {
    ctx.logger.info('job already finished or claimed elsewhere: acknowledging redelivery without work');
    return 'ack';
  }
  await bus.publishEvent(EVENTS.backupStarted, { jobId: job.jobId, attempt: claimed.attempts, worker: deps.worker }, t);
  const store = deps.store.withTrace(ctx.traceparent);
  const stages = new BackupStages();
  const written = new Set<string>();
  const started = Date.now();
  let files = 0;
  let bytesIn = 0;
  let repo: Repository | undefined;
  let result: BackupResult | undefined;
  try {
    repo = await stages.open(() => deps.openRepository(store));
    const fenced = fencedStore(tracedStore(throttledStore(store, deps.uploadDelayMs ?? 0), 'storage-gateway'), {
      archive: async () => {
        const next = await jobs.transition(claimed!, 'uploading');
        if (!next) throw new ConflictError(`job ${job.jobId} was taken over by another worker`);
        claimed = next;
      },
      manifest: async () => {
        // The commit point: a holder that stalled past its lock's ttl must not commit over its successor.
        if (held && !(await held.confirm())) throw new ConflictError(`job ${job.jobId}: lost the lock on source ${job.source.location} (token ${held.grant.token}); not committing`);
        const next = await jobs.transition(claimed!, 'verifying');
        if (!next) throw new ConflictError(`job ${job.jobId} was taken over by another worker`);
        claimed = next;
        // Progress only: an event lost in a bus restart must not fail the backup at its commit.
        await bus.publishEvent(EVENTS.backupProgress, { jobId: job.jobId, phase: 'uploaded', files, bytesIn }, t).catch(() => undefined);
      },
    }, stages, written);
    result = await runBackup({ ...repo, store: fenced, catalog: deps.catalog } as unknown as Repository, new FilesystemSource(job.source.location), {
      level: job.level,
      tags: job.tags,
      skipUnreadable: job.skipUnreadable,
      ...(job.compression ? { compression: { codec: job.compression.codec as CodecName, level: job.compression.level } } : {}),
      onProgress: (p) => {
        files = p.files;
        bytesIn = p.bytesIn;
        ctx.working();
        if (p.files > 0 && p.files % PROGRESS_EVERY_FILES === 0) {
          void bus.publishEvent(EVENTS.backupProgress, { jobId: job.jobId, phase: 'reading', files: p.files, bytesIn: p.bytesIn }, t).catch(() => undefined);
        }
      },
    });
    const backup = result;
    trace.getActiveSpan()?.setAttributes({ 'tresor.backup.files': backup.files, 'tresor.backup.bytes_in': backup.bytesIn, 'tresor.backup.archive_bytes': backup.archiveSize, 'tresor.backup.level': backup.level });
    const done = await stages.inCommit(() => jobs.transition(claimed!, 'completed', { result: jobResult(backup) }));
    if (!done) throw new ConflictError(`job ${job.jobId} changed while completing`);
    stages.finish();
    await publishCompleted(bus, job.jobId, backup, t);
    ctx.logger.info({ backupId: backup.backupId }, 'backup completed');
    return 'ack';
  } catch (err) {
    stages.finish(err);
    if (err instanceof ConflictError && /taken over/.test(err.message)) {
      await discardUncommitted({ catalog: deps.catalog, store, logger: ctx.logger }, written);
      ctx.logger.warn('claim superseded by another worker: leaving the job to it');
      return 'term';
    }
    const decision = await decideAfterFailure({ error: err, written, attempt: ctx.deliveryCount }, { committed: (id) => deps.catalog.getBackup(id) }, deps.retryPolicy);
    if (decision.kind === 'committed') {
      // Its commit landed, only a later step (or a reply) failed: this is the job's one backup.
      const landed = result?.backupId === decision.backup.id ? result : await resultOfCommitted(repo, decision.backup, job, started);
      ctx.logger.warn({ backupId: landed.backupId, err: (err as Error).message }, 'backup attempt failed after its commit landed: completing the job with that backup');
      return completeCommitted(deps, job.jobId, landed, ctx, t);
    }
    // This attempt's backup id is never used again: what it stored and did not catalogue goes now.
    await discardUncommitted({ catalog: deps.catalog, store, logger: ctx.logger }, written);
    if (decision.kind === 'retry') {
      ctx.logger.warn({ err: (err as Error).message, attempt: ctx.deliveryCount, retryAfterMs: decision.afterMs }, 'backup attempt failed; will retry');
      return { retryAfterMs: decision.afterMs };
    }
    const error = { code: err instanceof TresorError ? err.code : 'INTERNAL', message: err instanceof Error ? err.message : String(err) };
    const current = await jobs.get(job.jobId);
    if (current) await jobs.transition(current, 'failed', { error }).catch(() => undefined);
    await bus.publishEvent(EVENTS.backupFailed, { jobId: job.jobId, attempt: claimed?.attempts ?? 0, error }, t);
    ctx.logger.error({ code: error.code, reason: error.message, why: decision.why }, 'backup failed');
    return 'ack';
  }
}

/** Tries to record a job complete (a lost Mongo reply may have recorded it already). */
const COMPLETE_TRIES = 3;
const COMPLETE_PAUSE_MS = 2_000;

/**
 * Completes a job with the backup its attempt committed although the attempt failed afterwards.
 * It is never retried from here: a new attempt would make a second backup of the job.
 */
async function completeCommitted(deps: BackupHandlerDeps, jobId: string, backup: BackupResult, ctx: JobContext, t: { subject: string; traceparent: string }): Promise<JobOutcome> {
  for (let tries = 1; ; tries++) {
    try {
      const current = await deps.jobs.get(jobId);
      const done = current?.state === 'completed' ? current : current && (await deps.jobs.transition(current, 'completed', { result: jobResult(backup) }));
      if (done?.state === 'completed') break;
      throw new ConflictError(`job ${jobId} is ${current?.state ?? 'gone'}`);
    } catch (err) {
      if (tries >= COMPLETE_TRIES) {
        ctx.logger.error({ backupId: backup.backupId, err: (err as Error).message }, 'backup committed, but its job could not be recorded complete; not retrying (that would make a second backup)');
        return 'ack';
      }
      await new Promise((resolve) => setTimeout(resolve, COMPLETE_PAUSE_MS));
    }
  }
  await publishCompleted(deps.bus, jobId, backup, t).catch((err: unknown) => ctx.logger.warn({ err: (err as Error).message }, 'could not publish backup.completed'));
  ctx.logger.info({ backupId: backup.backupId }, 'backup completed');
  return 'ack';
}

/** The job's result for a committed backup whose attempt failed before runBackup returned: the catalog record and the manifest's counts. */
async function resultOfCommitted(repo: Repository | undefined, record: BackupRecord, job: BackupJob, started: number): Promise<BackupResult> {
  const stats = repo ? (await loadManifest(repo, record.id).catch(() => undefined))?.manifest.stats : undefined;
  return {
    backupId: record.id,
    requestedLevel: job.level,
    level: record.level,
    parentId: record.parentId,
    createdAt: record.createdAt,
    files: record.files,
    dirs: record.dirs,
    symlinks: stats?.symlinks ?? 0,
    bytesIn: record.bytesIn,
    bytesStored: record.bytesStored,
    archiveSize: record.archiveSize,
    reusedFiles: stats?.reusedFiles ?? 0,
    durationMs: Date.now() - started,
    warnings: [],
  };
}

/** A backup's result as the job record keeps it. */
function jobResult(r: BackupResult): Record<string, unknown> {
  return { backupId: r.backupId, level: r.level, files: r.files, dirs: r.dirs, symlinks: r.symlinks, bytesIn: r.bytesIn, bytesStored: r.bytesStored, archiveSize: r.archiveSize, reusedFiles: r.reusedFiles, parentId: r.parentId, requestedLevel: r.requestedLevel, durationMs: r.durationMs, warnings: [...r.warnings], createdAt: r.createdAt };
}

function publishCompleted(bus: Bus, jobId: string, r: BackupResult, t: { subject: string; traceparent: string }): Promise<unknown> {
  return bus.publishEvent(EVENTS.backupCompleted, { jobId, backupId: r.backupId, level: r.level, files: r.files, bytesIn: r.bytesIn, bytesStored: r.bytesStored, archiveSize: r.archiveSize }, t);
}
