import type { MongoJobStore } from '@tresor/catalog';
import { EVENTS, JOBS } from '@tresor/contracts';
import type { JobRecord } from '@tresor/contracts';
import type { Bus } from '@tresor/messaging';
import { submitJob } from '@tresor/service';

/** Queues a restore job and announces it; the one path for direct and approved restores. */
export function queueRestore(bus: Bus, jobs: MongoJobStore, params: { backupId: string; target: string; include: string[]; exclude: string[]; dryRun: boolean; overwrite: boolean }, idempotencyKey: string | null, traceparent: string | undefined): Promise<JobRecord> {
  return submitJob(jobs, { kind: 'restore', params, idempotencyKey }, traceparent, async (job, tp) => {
    await bus.publishJob(JOBS.restore, { v: 1, jobId: job.id, ...params }, tp);
    await bus.publishEvent(EVENTS.restoreRequested, { jobId: job.id, backupId: params.backupId, target: params.target, dryRun: params.dryRun }, { subject: job.id, traceparent: tp, id: `${job.id}.requested` });
  });
}
