import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
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

  @Delete(':id')
  @HttpCode(204)
  @RequirePermission('schedules:write')
  async delete(@CurrentIdentity() who: Identity, @Param('id') id: string) {
    await this.schedules.delete(who, id);
  }
}
