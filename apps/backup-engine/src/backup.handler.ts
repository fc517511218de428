import { runBackup } from '@tresor/repository';
import type { Repository } from '@tresor/repository';
import { FilesystemSource } from '@tresor/source';
import type { BackupJob, JobRecord } from '@tresor/contracts';
import { EVENTS } from '@tresor/contracts';
import type { MongoJobStore } from '@tresor/catalog';
import { ConflictError, TresorError } from '@tresor/errors';
import type { Bus, JobContext, JobOutcome } from '@tresor/messaging';
import type { RemoteObjectStore } from '@tresor/messaging';
import type { Catalog } from '@tresor/catalog';
import { holdLease } from '@tresor/scheduling';
import type { HeldLease, Lease } from '@tresor/scheduling';
import type { CodecName } from './types.js';
import { discardUncommitted } from './discard.js';
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
  let files = 0;
  let bytesIn = 0;
  try {
    const repo = await stages.open(() => deps.openRepository(store));
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
        await bus.publishEvent(EVENTS.backupProgress, { jobId: job.jobId, phase: 'uploaded', files, bytesIn }, t);
      },
    }, stages, written);
    const result = await runBackup({ ...repo, store: fenced, catalog: deps.catalog } as unknown as Repository, new FilesystemSource(job.source.location), {
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
    trace.getActiveSpan()?.setAttributes({ 'tresor.backup.files': result.files, 'tresor.backup.bytes_in': result.bytesIn, 'tresor.backup.archive_bytes': result.archiveSize, 'tresor.backup.level': result.level });
    const done = await stages.inCommit(() => jobs.transition(claimed!, 'completed', {
      result: { backupId: result.backupId, level: result.level, files: result.files, dirs: result.dirs, symlinks: result.symlinks, bytesIn: result.bytesIn, bytesStored: result.bytesStored, archiveSize: result.archiveSize, reusedFiles: result.reusedFiles, parentId: result.parentId, requestedLevel: result.requestedLevel, durationMs: result.durationMs, warnings: [...result.warnings], createdAt: result.createdAt },
    }));
    if (!done) throw new ConflictError(`job ${job.jobId} changed while completing`);
    stages.finish();
    await bus.publishEvent(EVENTS.backupCompleted, { jobId: job.jobId, backupId: result.backupId, level: result.level, files: result.files, bytesIn: result.bytesIn, bytesStored: result.bytesStored, archiveSize: result.archiveSize }, t);
    ctx.logger.info({ backupId: result.backupId }, 'backup completed');
    return 'ack';
  } catch (err) {
    stages.finish(err);
    // This attempt's backup id is never used again: what it stored and did not catalogue goes now.
    await discardUncommitted({ catalog: deps.catalog, store, logger: ctx.logger }, written);
    if (err instanceof ConflictError && /taken over/.test(err.message)) {
      ctx.logger.warn('claim superseded by another worker: leaving the job to it');
      return 'term';
    }
    const permanent = err instanceof TresorError;
    if (!permanent && ctx.deliveryCount < 3) {
      ctx.logger.warn({ err: (err as Error).message }, 'backup attempt failed; will retry');
      return { retryAfterMs: 2_000 };
    }
    const error = { code: err instanceof TresorError ? err.code : 'INTERNAL', message: err instanceof Error ? err.message : String(err) };
    const current = await jobs.get(job.jobId);
    if (current) await jobs.transition(current, 'failed', { error }).catch(() => undefined);
    await bus.publishEvent(EVENTS.backupFailed, { jobId: job.jobId, attempt: claimed?.attempts ?? 0, error }, t);
    ctx.logger.error({ code: error.code, reason: error.message }, 'backup failed');
    return 'ack';
  }
}
