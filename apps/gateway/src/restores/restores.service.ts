import { Inject, Injectable } from '@nestjs/common';
import type { Catalog, MongoJobStore } from '@tresor/catalog';
import type { ApprovalRequestDto, JobRecord } from '@tresor/contracts';
import type { z } from 'zod';
import { NotFoundError, UsageError } from '@tresor/errors';
import type { Identity } from '@tresor/auth';
import type { Bus } from '@tresor/messaging';
import { selectBackup } from '@tresor/repository';
import { BUS, CATALOG, JOB_STORE } from '../core/tokens.js';
import { ApprovalsService } from '../approvals/approvals.service.js';
import type { RequestContext } from '../approvals/approvals.service.js';
import { TenantsService } from '../tenants/tenants.service.js';
import type { SubmitOptions } from '../backups/backups.service.js';
import type { createRestoreRequestSchema } from './restores.schema.js';
import { queueRestore } from './queue-restore.js';

/** Restores: resolve the backup in the catalog, then queue a restore job for recovery. */
@Injectable()
export class RestoresService {
  constructor(
    @Inject(BUS) private readonly bus: Bus,
    @Inject(JOB_STORE) private readonly jobs: MongoJobStore,
    @Inject(CATALOG) private readonly catalog: Catalog,
    @Inject(TenantsService) private readonly tenants: TenantsService,
    @Inject(ApprovalsService) private readonly approvals: ApprovalsService,
  ) {}

  /**
   * Queues a restore of a backup (by id, `latest` or a point in time; idempotent with a key), or,
   * for a sensitive source, creates an approval request that queues it once custodians approve.
   */
  async create(who: Identity, req: z.infer<typeof createRestoreRequestSchema>, opts: SubmitOptions & { context: RequestContext }): Promise<{ job: JobRecord } | { approval: ApprovalRequestDto }> {
    const at = req.at === undefined ? undefined : new Date(req.at);
    if (at && Number.isNaN(at.getTime())) throw new UsageError(`at '${req.at}' is not an ISO-8601 time`);
    if (at && req.backup !== 'latest') throw new UsageError('give either a backup id or at, not both');
    this.tenants.requireSourceForLatest(who, req.backup, req.at, req.source);
    if (req.source) await this.tenants.assertLocation(who, req.source, `source ${req.source}`);
    const backup = await selectBackup(this.catalog, { id: req.backup, at, sourceLocation: req.source });
    await this.tenants.assertBackup(who, backup);
    const params = { backupId: backup.id, target: req.target, include: req.include, exclude: req.exclude, dryRun: req.dryRun, overwrite: req.overwrite };
    // Dual control: a sensitive source's restore waits for custodians instead of queuing its job.
    const location = (await this.catalog.getSource(backup.sourceId))?.location;
    if (location === undefined) throw new NotFoundError(`the source of backup ${backup.id} is not in the catalog`);
    const policy = await this.approvals.policy(location);
    if (policy.sensitive) {
      const approval = await this.approvals.request(who, { tenant: policy.tenant, source: location, restore: params, policy }, { ...opts.context, idempotencyKey: opts.idempotencyKey, traceparent: opts.traceparent });
      return { approval };
    }
    return { job: await queueRestore(this.bus, this.jobs, params, opts.idempotencyKey, opts.traceparent) };
  }

  /** A restore job. */
  async get(who: Identity, id: string) {
    const job = await this.jobs.get(id);
    if (!job || job.kind !== 'restore' || !(await this.tenants.jobVisible(who, job))) throw new NotFoundError(`restore ${id} not found`);
    return job;
  }
}
