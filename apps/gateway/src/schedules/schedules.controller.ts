import { Body, Controller, Delete, Get, Headers, HttpCode, Inject, Param, Post, Put } from '@nestjs/common';
import { IDEMPOTENCY_KEY_HEADER } from '@tresor/contracts';
import type { Identity } from '@tresor/auth';
import { CurrentIdentity, RequirePermission } from '../auth/access.decorator.js';
import { parse } from '../core/parse.js';
import { SchedulesService } from './schedules.service.js';
import { createScheduleRequestSchema } from './schedules.schema.js';

/** Backup schedules. */
@Controller('v1/schedules')
export class SchedulesController {
  constructor(@Inject(SchedulesService) private readonly schedules: SchedulesService) {}

  @Post()
  @HttpCode(201)
  @RequirePermission('schedules:write')
  async create(@CurrentIdentity() who: Identity, @Body() body: unknown) {
    return { schedule: await this.schedules.create(who, parse(createScheduleRequestSchema, body, 'POST /v1/schedules')) };
  }

  @Get()
  @RequirePermission('schedules:read')
  async list(@CurrentIdentity() who: Identity) {
    return { schedules: await this.schedules.list(who) };
  }

  @Get(':id')
  @RequirePermission('schedules:read')
  async get(@CurrentIdentity() who: Identity, @Param('id') id: string) {
    return { schedule: await this.schedules.get(who, id) };
  }

  @Put(':id')
  @RequirePermission('schedules:write')
  async replace(@CurrentIdentity() who: Identity, @Param('id') id: string, @Body() body: unknown) {
    return { schedule: await this.schedules.replace(who, id, parse(createScheduleRequestSchema, body, `PUT /v1/schedules/${id}`)) };
  }

  @Delete(':id')
  @HttpCode(204)
  @RequirePermission('schedules:write')
  async delete(@CurrentIdentity() who: Identity, @Param('id') id: string) {
    await this.schedules.delete(who, id);
  }

  @Post(':id/pause')
  @HttpCode(200)
  @RequirePermission('schedules:write')
  async pause(@CurrentIdentity() who: Identity, @Param('id') id: string) {
    return { schedule: await this.schedules.setPaused(who, id, true) };
  }

  @Post(':id/resume')
  @HttpCode(200)
  @RequirePermission('schedules:write')
  async resume(@CurrentIdentity() who: Identity, @Param('id') id: string) {
    return { schedule: await this.schedules.setPaused(who, id, false) };
  }

  @Post(':id/run')
  @HttpCode(202)
  @RequirePermission('backups:create')
  async run(@CurrentIdentity() who: Identity, @Param('id') id: string, @Headers(IDEMPOTENCY_KEY_HEADER) key?: string, @Headers('traceparent') traceparent?: string) {
    return { job: await this.schedules.runNow(who, id, { idempotencyKey: key ?? null, traceparent }) };
  }
}
