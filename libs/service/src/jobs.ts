import type { MongoJobStore, NewJob } from '@tresor/catalog';
import { EVENTS, JOBS, createBackupRequestSchema } from '@tresor/contracts';
import type { CreateBackupRequest, JobRecord } from '@tresor/contracts';
import type { Bus } from '@tresor/messaging';
import { withSpan } from '@tresor/messaging';

/**
 * Creates a job (or finds the one an earlier request with the same idempotency key created),
 * queues it and marks it queued. Queuing is repeatable: the job id is the JetStream message id.
 */
export async function submitJob(
  jobs: MongoJobStore,
  newJob: NewJob,
  traceparent: string | undefined,
  queue: (job: JobRecord, traceparent: string) => Promise<void>,
): Promise<JobRecord> {
  // The job's own span: its traceparent is stored with the job, so whoever runs it continues this trace.
  return withSpan(`submit ${newJob.kind}`, { parent: traceparent, attributes: { 'tresor.job.kind': newJob.kind } }, async (trace) => {
    const { job } = await jobs.create({ ...newJob, traceparent: trace.traceparent });
    trace.span.setAttribute('tresor.job.id', job.id);
    if (job.state === 'requested') {
      await queue(job, trace.traceparent);
      const queued = await jobs.transition(job, 'queued');
      return queued ?? (await jobs.get(job.id)) ?? job;
    }
    return job;
  });
}

/** The one path a backup is requested by: the gateway's POST /v1/backups and every schedule firing. */
export async function submitBackupJob(
  deps: { bus: Bus; jobs: MongoJobStore },
  request: CreateBackupRequest,
  options: { idempotencyKey?: string | null; traceparent?: string } = {},
): Promise<JobRecord> {
  const req = createBackupRequestSchema.parse(request);
  return submitJob(deps.jobs, { kind: 'backup', params: req, idempotencyKey: options.idempotencyKey ?? null }, options.traceparent, async (job, tp) => {
    await deps.bus.publishJob(JOBS.backup, { v: 1, jobId: job.id, ...req }, tp);
    await deps.bus.publishEvent(EVENTS.backupRequested, { jobId: job.id, source: req.source, level: req.level, tags: req.tags }, { subject: job.id, traceparent: tp, id: `${job.id}.requested` });
  });
}
