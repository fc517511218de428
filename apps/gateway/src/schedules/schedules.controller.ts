import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { parse } from '../core/parse.js';
import { SchedulesService } from './schedules.service.js';
import { createScheduleRequestSchema } from './schedules.schema.js';

/** Backup schedules. */
@Controller('v1/schedules')
export class SchedulesController {
  constructor(@Inject(SchedulesService) private readonly schedules: SchedulesService) {}

  @Post()
  @HttpCode(201)
  async create(@Body() body: unknown) {
    return { schedule: await this.schedules.create(parse(createScheduleRequestSchema, body, 'POST /v1/schedules')) };
  }

  @Get()
  async list() {
    return { schedules: await this.schedules.list() };
  }

  @Get(':id')
  async get(@Param('id') id: string) {
    return { schedule: await this.schedules.get(id) };
  }

  @Delete(':id')
  @HttpCode(204)
  async delete(@Param('id') id: string) {
    await this.schedules.delete(id);
  }
}
