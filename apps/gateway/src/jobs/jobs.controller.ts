import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import type { Identity } from '@tresor/auth';
import type { MongoJobStore } from '@tresor/catalog';
import { CurrentIdentity, RequirePermission } from '../auth/access.decorator.js';
import { TenantsService } from '../tenants/tenants.service.js';
import { NotFoundError } from '@tresor/errors';
import { JOB_STORE } from '../core/tokens.js';

/** Job state, attempts and results, of the caller's tenants (read straight from the job store). */
@Controller('v1/jobs')
export class JobsController {
  constructor(
    @Inject(JOB_STORE) private readonly jobs: MongoJobStore,
    @Inject(TenantsService) private readonly tenants: TenantsService,
  ) {}

  @Get()
  @RequirePermission('jobs:read')
  async list(@CurrentIdentity() who: Identity, @Query('kind') kind?: string, @Query('limit') limit?: string) {
    const k = kind === 'backup' || kind === 'restore' || kind === 'verify' ? kind : undefined;
    const jobs = await this.jobs.list({ ...(k ? { kind: k } : {}), limit: limit ? Math.min(1000, Number(limit) || 100) : 100 });
    return { jobs: await this.tenants.visibleJobs(who, jobs) };
  }

  @Get(':id')
  @RequirePermission('jobs:read')
  async get(@CurrentIdentity() who: Identity, @Param('id') id: string) {
    const job = await this.jobs.get(id);
    if (!job || !(await this.tenants.jobVisible(who, job))) throw new NotFoundError(`job ${id} not found`);
    return { job };
  }
}
