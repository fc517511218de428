import { Inject, Injectable } from '@nestjs/common';
import type { Catalog, MongoJobStore } from '@tresor/catalog';
import { EVENTS, JOBS } from '@tresor/contracts';
import type { CreateBackupRequest } from '@tresor/contracts';
import type { Identity } from '@tresor/auth';
import type { Bus } from '@tresor/messaging';
import { selectBackup } from '@tresor/repository';
import { submitBackupJob, submitJob } from '@tresor/service';
import { BUS, CATALOG, JOB_STORE } from '../core/tokens.js';
import { ApprovalsService } from '../approvals/approvals.service.js';
import { TenantsService } from '../tenants/tenants.service.js';

export interface SubmitOptions {
  idempotencyKey: string | null;
  traceparent: string | undefined;
}

/** Backups and sources: reads from the catalog, backup and verify jobs queued on NATS. */
@Injectable()
export class BackupsService {
  constructor(
    @Inject(BUS) private readonly bus: Bus,
    @Inject(JOB_STORE) private readonly jobs: MongoJobStore,
    @Inject(CATALOG) private readonly catalog: Catalog,
    @Inject(TenantsService) private readonly tenants: TenantsService,
    @Inject(ApprovalsService) private readonly approvals: ApprovalsService,
  ) {}

  /** The sources of the caller's tenants, each with its tenant and whether dual control guards its restores. */
  async listSources(who: Identity) {
    const sources = await this.catalog.listSources();
    const tenantOf = await this.tenants.ofLocations(sources.map((s) => s.location));
    return sources.map((s) => ({ ...s, tenant: tenantOf.get(s.location)!, sensitive: this.approvals.sensitive(tenantOf.get(s.location)!, s.location) })).filter((s) => this.tenants.seesAll(who) || who.tenants.includes(s.tenant));
  }

  /** Backups (of one source location if given), each with its source location. */
  async listBackups(who: Identity, source?: string) {
    const sources = await this.listSources(who);
    const wanted = source ? sources.find((s) => s.location === source) : undefined;
    if (source && !wanted) return [];
    const visible = new Set(sources.map((s) => s.id));
    const backups = (await this.catalog.listBackups(wanted ? { sourceId: wanted.id } : {})).filter((b) => visible.has(b.sourceId));
    const locationOf = new Map(sources.map((s) => [s.id, s.location]));
    return backups.map((b) => ({ ...b, source: locationOf.get(b.sourceId) }));
  }

  /** A backup by id, unique prefix or `latest`, with its entries when asked. */
  async getBackup(who: Identity, id: string, entries: { include: string[]; exclude: string[] } | null) {
    this.tenants.requireSourceForLatest(who, id, undefined, undefined);
    const backup = await selectBackup(this.catalog, { id });
    await this.tenants.assertBackup(who, backup);
    if (!entries) return { backup };
    const out = [];
    for await (const e of this.catalog.entries(backup.id, entries)) out.push(e);
    return { backup, entries: out };
  }

  /** Queues a backup job (idempotent with a key) in a tenant granted to the caller. */
  async createBackup(who: Identity, req: CreateBackupRequest, opts: SubmitOptions) {
    await this.tenants.claim(who, req.source.location, req.source.tenant);
    return submitBackupJob({ bus: this.bus, jobs: this.jobs }, req, opts);
  }

  /** Queues a verify job of one backup (idempotent with a key). */
  async verify(who: Identity, id: string, deep: boolean, opts: SubmitOptions) {
    const backup = await selectBackup(this.catalog, { id });
    await this.tenants.assertBackup(who, backup);
    return submitJob(this.jobs, { kind: 'verify', params: { backupId: backup.id, deep }, idempotencyKey: opts.idempotencyKey }, opts.traceparent, async (job, tp) => {
      await this.bus.publishJob(JOBS.verify, { v: 1, jobId: job.id, backupId: backup.id, deep }, tp);
      await this.bus.publishEvent(EVENTS.verifyRequested, { jobId: job.id, backupId: backup.id, deep }, { subject: job.id, traceparent: tp, id: `${job.id}.requested` });
    });
  }
}
