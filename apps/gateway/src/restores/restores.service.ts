import { Inject, Injectable } from '@nestjs/common';
import type { Catalog, MongoJobStore } from '@tresor/catalog';
import { EVENTS, JOBS } from '@tresor/contracts';
import type { z } from 'zod';
import { NotFoundError, UsageError } from '@tresor/errors';
import type { Identity } from '@tresor/auth';
import type { Bus } from '@tresor/messaging';
import { selectBackup } from '@tresor/repository';
import { submitJob } from '@tresor/service';
import { BUS, CATALOG, JOB_STORE } from '../core/tokens.js';
import { TenantsService } from '../tenants/tenants.service.js';
import type { SubmitOptions } from '../backups/backups.service.js';
import type { createRestoreRequestSchema } from './restores.schema.js';

/** Restores: resolve the backup in the catalog, then queue a restore job for recovery. */
@Injectable()
export class RestoresService {
  constructor(
    @Inject(BUS) private readonly bus: Bus,
    @Inject(JOB_STORE) private readonly jobs: MongoJobStore,
    @Inject(CATALOG) private readonly catalog: Catalog,
    @Inject(TenantsService) private readonly tenants: TenantsService,
  ) {}

  /** Queues a restore of a backup (by id, `latest` or a point in time; idempotent with a key). */
  async create(who: Identity, req: z.infer<typeof createRestoreRequestSchema>, opts: SubmitOptions) {
    const at = req.at === undefined ? undefined : new Date(req.at);
    if (at && Number.isNaN(at.getTime())) throw new UsageError(`at '${req.at}' is not an ISO-8601 time`);
    if (at && req.backup !== 'latest') throw new UsageError('give either a backup id or at, not both');
    this.tenants.requireSourceForLatest(who, req.backup, req.at, req.source);
    if (req.source) await this.tenants.assertLocation(who, req.source, `source ${req.source}`);
    const backup = await selectBackup(this.catalog, { id: req.backup, at, sourceLocation: req.source });
    await this.tenants.assertBackup(who, backup);
    const params = { backupId: backup.id, target: req.target, include: req.include, exclude: req.exclude, dryRun: req.dryRun, overwrite: req.overwrite };
    return submitJob(this.jobs, { kind: 'restore', params, idempotencyKey: opts.idempotencyKey }, opts.traceparent, async (job, tp) => {
      await this.bus.publishJob(JOBS.restore, { v: 1, jobId: job.id, ...params }, tp);
      await this.bus.publishEvent(EVENTS.restoreRequested, { jobId: job.id, backupId: backup.id, target: req.target, dryRun: req.dryRun }, { subject: job.id, traceparent: tp, id: `${job.id}.requested` });
    });
  }

  /** A restore job. */
  async get(who: Identity, id: string) {
    const job = await this.jobs.get(id);
    if (!job || job.kind !== 'restore' || !(await this.tenants.jobVisible(who, job))) throw new NotFoundError(`restore ${id} not found`);
    return job;
  }
}
