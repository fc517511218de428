import { Body, Controller, Get, Headers, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { IDEMPOTENCY_KEY_HEADER } from '@tresor/contracts';
import { parse } from '../core/parse.js';
import { RestoresService } from './restores.service.js';
import { createRestoreRequestSchema } from './restores.schema.js';

/** Restore requests and their jobs. */
@Controller('v1/restores')
export class RestoresController {
  constructor(@Inject(RestoresService) private readonly restores: RestoresService) {}

  @Post()
  @HttpCode(202)
  async create(@Body() body: unknown, @Headers(IDEMPOTENCY_KEY_HEADER) key?: string, @Headers('traceparent') traceparent?: string) {
    const req = parse(createRestoreRequestSchema, body, 'POST /v1/restores');
    return { job: await this.restores.create(req, { idempotencyKey: key ?? null, traceparent }) };
  }

  @Get(':id')
  async get(@Param('id') id: string) {
    return { job: await this.restores.get(id) };
  }
}
