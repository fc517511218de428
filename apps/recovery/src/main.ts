// recovery: pulls restore and verify jobs and runs the verified restore/verify pipelines of the libs.
import { z } from 'zod';
import { connectMongoCatalog } from '@tresor/catalog';
import type { MongoJobStore } from '@tresor/catalog';
import { EVENTS, JOBS } from '@tresor/contracts';
import type { RestoreJob, VerifyJob } from '@tresor/contracts';
import { TresorError } from '@tresor/errors';
import type { Bus, JobContext, JobOutcome } from '@tresor/messaging';
import { RemoteObjectStore, withSpan } from '@tresor/messaging';
import { tracedStore } from '@tresor/storage';
import type { Repository } from '@tresor/repository';
import { runRestore, verifyBackup } from '@tresor/repository';
import { NotFoundError } from '@tresor/errors';
import { baseConfigSchema, loadConfig, mongoTlsOptions, openClusterRepository, runService, serviceKeySupplier, start } from '@tresor/service';

const configSchema = baseConfigSchema.extend({ TRESOR_REPO: z.string().min(1) });

type Kind = 'restore' | 'verify';

start(async () => {
  const config = loadConfig(configSchema);
  const mongo = await connectMongoCatalog(config.TRESOR_MONGODB_URL, config.TRESOR_MONGODB_DB, { clientOptions: mongoTlsOptions(config), readConcern: config.TRESOR_MONGODB_READ_CONCERN });
  const supplier = serviceKeySupplier();
  await runService({
    name: 'recovery',
    config,
    consumers: (t) => [t.consumers.recovery],
    async setup({ bus, topology, instance }) {
      const store = await RemoteObjectStore.connect(bus);
      const open = (traceparent: string) => openClusterRepository(config.TRESOR_REPO, tracedStore(store.withTrace(traceparent), 'storage-gateway'), mongo.catalog, supplier);
      const run = (kind: Kind, job: RestoreJob | VerifyJob, ctx: JobContext, work: (repo: Repository) => Promise<Record<string, unknown>>) =>
        runJob({ bus, jobs: mongo.jobs, worker: instance }, kind, job, ctx, async () => work(await open(ctx.traceparent)));
      bus.consumeJobs(topology.consumers.recovery, {
        restore: {
          def: JOBS.restore,
          handle: (job: RestoreJob, ctx) =>
            run('restore', job, ctx, async (repo) => {
              const backup = await repo.catalog.getBackup(job.backupId);
              if (!backup) throw new NotFoundError(`backup ${job.backupId} not found`);
              const r = await runRestore(repo, backup, { target: job.target, include: job.include, exclude: job.exclude, dryRun: job.dryRun, overwrite: job.overwrite, stagingKey: job.jobId, onProgress: () => ctx.working() });
              return { ...r, paths: [...r.paths] };
            }),
        },
        verify: {
          def: JOBS.verify,
          handle: (job: VerifyJob, ctx) =>
            run('verify', job, ctx, async (repo) => {
              const backup = await repo.catalog.getBackup(job.backupId);
              if (!backup) throw new NotFoundError(`backup ${job.backupId} not found`);
              return { ...(await verifyBackup(repo, backup, { deep: job.deep })) };
            }),
        },
      });
      return { stop: () => mongo.close() };
    },
  });
});

async function runJob(
  deps: { bus: Bus; jobs: MongoJobStore; worker: string },
  kind: Kind,
  job: RestoreJob | VerifyJob,
  ctx: JobContext,
  work: () => Promise<Record<string, unknown>>,
): Promise<JobOutcome> {
  const t = { subject: job.jobId, traceparent: ctx.traceparent };
  const claimed = await deps.jobs.claim(job.jobId, deps.worker);
  if (!claimed) return 'ack';
  await deps.bus.publishEvent(kind === 'restore' ? EVENTS.restoreStarted : EVENTS.verifyStarted, { jobId: job.jobId, attempt: claimed.attempts, worker: deps.worker }, t);
  try {
    // The restore (or verify) itself, under the job's `process` span: what it read and wrote, never paths.
    const result = await withSpan(`recovery.${kind}`, { attributes: { 'tresor.backup.id': job.backupId, ...(kind === 'restore' ? { 'tresor.restore.dry_run': (job as RestoreJob).dryRun } : {}) } }, async (span) => {
      const r = await work();
      for (const k of ['files', 'bytes', 'ok'] as const) if (typeof r[k] === 'number' || typeof r[k] === 'boolean') span.span.setAttribute(`tresor.${kind}.${k}`, r[k]);
      return r;
    });
    await deps.jobs.transition(claimed, 'completed', { result });
    if (kind === 'restore') {
      await deps.bus.publishEvent(EVENTS.restoreCompleted, { jobId: job.jobId, backupId: job.backupId, files: Number(result.files), bytes: Number(result.bytes), dryRun: Boolean(result.dryRun) }, t);
    } else {
      await deps.bus.publishEvent(EVENTS.verifyCompleted, { jobId: job.jobId, backupId: job.backupId, ok: Boolean(result.ok), deep: Boolean(result.deep), ...(typeof result.problem === 'string' ? { problem: result.problem } : {}) }, t);
    }
    return 'ack';
  } catch (err) {
    const error = { code: err instanceof TresorError ? err.code : 'INTERNAL', message: err instanceof Error ? err.message : String(err) };
    await deps.jobs.transition(claimed, 'failed', { error }).catch(() => undefined);
    await deps.bus.publishEvent(kind === 'restore' ? EVENTS.restoreFailed : EVENTS.verifyFailed, { jobId: job.jobId, attempt: claimed.attempts, error }, t);
    ctx.logger.warn({ code: error.code, reason: error.message }, `${kind} failed`);
    return 'ack';
  }
}
