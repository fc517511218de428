import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import type { MongoJobStore } from '@tresor/catalog';
import { NotFoundError } from '@tresor/errors';
import { JOB_STORE } from '../core/tokens.js';

/** Job state, attempts and results (read straight from the job store: there is no logic to hold). */
@Controller('v1/jobs')
export class JobsController {
  constructor(@Inject(JOB_STORE) private readonly jobs: MongoJobStore) {}

  @Get()
  async list(@Query('kind') kind?: string, @Query('limit') limit?: string) {
    const k = kind === 'backup' || kind === 'restore' || kind === 'verify' ? kind : undefined;
    return { jobs: await this.jobs.list({ ...(k ? { kind: k } : {}), limit: limit ? Math.min(1000, Number(limit) || 100) : 100 }) };
  }

  @Get(':id')
  async get(@Param('id') id: string) {
    const job = await this.jobs.get(id);
    if (!job) throw new NotFoundError(`job ${id} not found`);
    return { job };
  }
}
