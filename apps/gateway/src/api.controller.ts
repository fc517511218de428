import { Body, Controller, Delete, Get, Headers, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import type { z } from 'zod';
import type { Catalog, MongoJobStore, MongoScheduleStore, NewJob } from '@tresor/catalog';
import {
  COMMANDS,
  EVENTS,
  IDEMPOTENCY_KEY_HEADER,
  JOBS,
  createBackupRequestSchema,
  createRestoreRequestSchema,
  createScheduleRequestSchema,
  verifyBackupRequestSchema,
} from '@tresor/contracts';
import type { JobRecord } from '@tresor/contracts';
import { NotFoundError, UsageError } from '@tresor/errors';
import type { Bus } from '@tresor/messaging';
import { childTrace } from '@tresor/messaging';
import { selectBackup } from '@tresor/repository';
import { submitBackupJob, submitJob } from '@tresor/service';
import { BUS, CATALOG, JOB_STORE, SCHEDULE_STORE } from './tokens.js';

function parse<S extends z.ZodType>(schema: S, body: unknown, what: string): z.infer<S> {
  const r = schema.safeParse(body ?? {});
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new UsageError(`${what}: ${issue.path.join('.') || '(body)'}: ${issue.message}`);
  }
  return r.data;
}

const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/**
 * The REST API (v1). Reads come from the catalog; every change becomes a job (idempotent with
 * an Idempotency-Key) queued on NATS. The gateway never touches storage.
 */
@Controller('v1')
export class ApiController {
  constructor(
    @Inject(BUS) private readonly bus: Bus,
    @Inject(JOB_STORE) private readonly jobs: MongoJobStore,
    @Inject(CATALOG) private readonly catalog: Catalog,
    @Inject(SCHEDULE_STORE) private readonly schedules: MongoScheduleStore,
  ) {}

  @Get('sources')
  async sources() {
    return { sources: await this.catalog.listSources() };
  }

  @Get('backups')
  async listBackups(@Query('source') source?: string) {
    const sources = await this.catalog.listSources();
    const wanted = source ? sources.find((s) => s.location === source) : undefined;
    if (source && !wanted) return { backups: [] };
    const backups = await this.catalog.listBackups(wanted ? { sourceId: wanted.id } : {});
    const locationOf = new Map(sources.map((s) => [s.id, s.location]));
    return { backups: backups.map((b) => ({ ...b, source: locationOf.get(b.sourceId) })) };
  }

  @Get('backups/:id')
  async getBackup(@Param('id') id: string, @Query('entries') entries?: string, @Query('include') include?: string | string[], @Query('exclude') exclude?: string | string[]) {
    const backup = await selectBackup(this.catalog, { id });
    if (entries !== 'true') return { backup };
    const out = [];
    for await (const e of this.catalog.entries(backup.id, { include: list(include), exclude: list(exclude) })) out.push(e);
    return { backup, entries: out };
  }

  @Post('backups')
  @HttpCode(202)
  async createBackup(@Body() body: unknown, @Headers(IDEMPOTENCY_KEY_HEADER) key?: string, @Headers('traceparent') traceparent?: string) {
    const req = parse(createBackupRequestSchema, body, 'POST /v1/backups');
    return { job: await submitBackupJob({ bus: this.bus, jobs: this.jobs }, req, { idempotencyKey: key ?? null, traceparent }) };
  }

  @Post('backups/:id/verify')
  @HttpCode(202)
  async verify(@Param('id') id: string, @Body() body: unknown, @Headers(IDEMPOTENCY_KEY_HEADER) key?: string, @Headers('traceparent') traceparent?: string) {
    const req = parse(verifyBackupRequestSchema, body, 'POST /v1/backups/:id/verify');
    const backup = await selectBackup(this.catalog, { id });
    return this.submit({ kind: 'verify', params: { backupId: backup.id, deep: req.deep }, idempotencyKey: key ?? null }, traceparent, async (job, tp) => {
      await this.bus.publishJob(JOBS.verify, { v: 1, jobId: job.id, backupId: backup.id, deep: req.deep }, tp);
      await this.bus.publishEvent(EVENTS.verifyRequested, { jobId: job.id, backupId: backup.id, deep: req.deep }, { subject: job.id, traceparent: tp, id: `${job.id}.requested` });
    });
  }

  @Post('restores')
  @HttpCode(202)
  async createRestore(@Body() body: unknown, @Headers(IDEMPOTENCY_KEY_HEADER) key?: string, @Headers('traceparent') traceparent?: string) {
    const req = parse(createRestoreRequestSchema, body, 'POST /v1/restores');
    const at = req.at === undefined ? undefined : new Date(req.at);
    if (at && Number.isNaN(at.getTime())) throw new UsageError(`at '${req.at}' is not an ISO-8601 time`);
    if (at && req.backup !== 'latest') throw new UsageError('give either a backup id or at, not both');
    const backup = await selectBackup(this.catalog, { id: req.backup, at, sourceLocation: req.source });
    const params = { backupId: backup.id, target: req.target, include: req.include, exclude: req.exclude, dryRun: req.dryRun, overwrite: req.overwrite };
    return this.submit({ kind: 'restore', params, idempotencyKey: key ?? null }, traceparent, async (job, tp) => {
      await this.bus.publishJob(JOBS.restore, { v: 1, jobId: job.id, ...params }, tp);
      await this.bus.publishEvent(EVENTS.restoreRequested, { jobId: job.id, backupId: backup.id, target: req.target, dryRun: req.dryRun }, { subject: job.id, traceparent: tp, id: `${job.id}.requested` });
    });
  }

  @Get('restores/:id')
  async getRestore(@Param('id') id: string) {
    const job = await this.jobs.get(id);
    if (!job || job.kind !== 'restore') throw new NotFoundError(`restore ${id} not found`);
    return { job };
  }

  @Get('jobs')
  async listJobs(@Query('kind') kind?: string, @Query('limit') limit?: string) {
    const k = kind === 'backup' || kind === 'restore' || kind === 'verify' ? kind : undefined;
    return { jobs: await this.jobs.list({ ...(k ? { kind: k } : {}), limit: limit ? Math.min(1000, Number(limit) || 100) : 100 }) };
  }

  @Get('jobs/:id')
  async getJob(@Param('id') id: string) {
    const job = await this.jobs.get(id);
    if (!job) throw new NotFoundError(`job ${id} not found`);
    return { job };
  }

  @Post('schedules')
  @HttpCode(201)
  async createSchedule(@Body() body: unknown) {
    const req = parse(createScheduleRequestSchema, body, 'POST /v1/schedules');
    const backup = parse(createBackupRequestSchema, req.backup, 'POST /v1/schedules: backup');
    if (req.kind === 'once') {
      if (!req.at || req.everyMs !== undefined || req.startAt !== undefined) throw new UsageError('a once schedule takes at (and no everyMs or startAt)');
      return { schedule: await this.schedules.create({ kind: 'once', firstRunAt: new Date(req.at), backup }) };
    }
    if (req.everyMs === undefined || req.at !== undefined) throw new UsageError('an interval schedule takes everyMs (and optionally startAt, not at)');
    return { schedule: await this.schedules.create({ kind: 'interval', everyMs: req.everyMs, firstRunAt: req.startAt ? new Date(req.startAt) : new Date(), backup }) };
  }

  @Get('schedules')
  async listSchedules() {
    return { schedules: await this.schedules.list() };
  }

  @Get('schedules/:id')
  async getSchedule(@Param('id') id: string) {
    const schedule = await this.schedules.get(id);
    if (!schedule) throw new NotFoundError(`schedule ${id} not found`);
    return { schedule };
  }

  @Delete('schedules/:id')
  @HttpCode(204)
  async deleteSchedule(@Param('id') id: string) {
    if (!(await this.schedules.delete(id))) throw new NotFoundError(`schedule ${id} not found`);
  }

  @Get('storage/locations')
  async locations(@Headers('traceparent') traceparent?: string) {
    const { locations } = await this.bus.request(COMMANDS.storageLocations, { v: 1 }, { traceparent: childTrace(traceparent).traceparent });
    return { locations };
  }

  @Get('health')
  async health() {
    try {
      const s = await this.bus.request(COMMANDS.monitoringStatus, { v: 1 }, { timeoutMs: 3000 });
      return { status: s.services.every((x) => x.ready) ? 'ok' : 'degraded', services: s.services, jobs: s.jobs };
    } catch {
      return { status: 'degraded', services: [], jobs: { completed: 0, failed: 0 } };
    }
  }

  private async submit(newJob: NewJob, traceparent: string | undefined, queue: (job: JobRecord, traceparent: string) => Promise<void>) {
    return { job: await submitJob(this.jobs, newJob, traceparent, queue) };
  }
}
