import { Inject, Injectable } from '@nestjs/common';
import type { BackupRecord, Catalog, MongoJobStore } from '@tresor/catalog';
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

/** Which backup a restore means: an id or `latest`, or the newest not after `at`, of a source. */
export interface RestoreSelection {
  readonly backup: string;
  readonly at?: string | undefined;
  readonly source?: string | undefined;
}

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
    const { backup, location } = await this.select(who, req);
    const params = { backupId: backup.id, target: req.target, include: req.include, exclude: req.exclude, dryRun: req.dryRun, overwrite: req.overwrite };
    // Dual control: a sensitive source's restore waits for custodians instead of queuing its job.
    const policy = await this.approvals.policy(location);
    if (policy.sensitive) {
      const approval = await this.approvals.request(who, { tenant: policy.tenant, source: location, restore: params, policy }, { ...opts.context, idempotencyKey: opts.idempotencyKey, traceparent: opts.traceparent });
      return { approval };
    }
    return { job: await queueRestore(this.bus, this.jobs, params, opts.idempotencyKey, opts.traceparent) };
  }

  /** What a restore with these patterns would select (from the catalog; nothing is restored, nothing queued). */
  async preview(who: Identity, req: RestoreSelection & { include: string[]; exclude: string[] }, limit: number) {
    const { backup, location } = await this.select(who, req);
    const entries: { path: string; type: 'file' | 'dir' | 'symlink'; size: number }[] = [];
    const totals = { entries: 0, files: 0, dirs: 0, symlinks: 0, bytes: 0 };
    for await (const e of this.catalog.entries(backup.id, { include: req.include, exclude: req.exclude })) {
      totals.entries++;
      if (e.type === 'file') {
        totals.files++;
        totals.bytes += e.size;
      } else if (e.type === 'dir') totals.dirs++;
      else totals.symlinks++;
      if (entries.length < limit) entries.push({ path: e.path, type: e.type, size: e.size });
    }
    const { sensitive } = await this.approvals.policy(location);
    return { backup: { ...backup, source: location }, sensitive, entries, totals, truncated: totals.entries > entries.length };
  }

  /** The backup a restore means (id, `latest` or the newest not after `at`) in the caller's tenants, with its source location. */
  private async select(who: Identity, req: RestoreSelection): Promise<{ backup: BackupRecord; location: string }> {
    const at = req.at === undefined ? undefined : new Date(req.at);
    if (at && Number.isNaN(at.getTime())) throw new UsageError(`at '${req.at}' is not an ISO-8601 time`);
    if (at && req.backup !== 'latest') throw new UsageError('give either a backup id or at, not both');
    this.tenants.requireSourceForLatest(who, req.backup, req.at, req.source);
    if (req.source) await this.tenants.assertLocation(who, req.source, `source ${req.source}`);
    const backup = await selectBackup(this.catalog, { id: req.backup, at, sourceLocation: req.source });
    await this.tenants.assertBackup(who, backup);
    const location = (await this.catalog.getSource(backup.sourceId))?.location;
    if (location === undefined) throw new NotFoundError(`the source of backup ${backup.id} is not in the catalog`);
    return { backup, location };
  }

  /** A restore job. */
  async get(who: Identity, id: string) {
    const job = await this.jobs.get(id);
    if (!job || job.kind !== 'restore' || !(await this.tenants.jobVisible(who, job))) throw new NotFoundError(`restore ${id} not found`);
    return job;
  }
}
