import { Body, Controller, Get, Headers, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { IDEMPOTENCY_KEY_HEADER } from '@tresor/contracts';
import { list, parse } from '../core/parse.js';
import { BackupsService } from './backups.service.js';
import { createBackupRequestSchema, verifyBackupRequestSchema } from './backups.schema.js';

/** Sources and backups: catalog reads; backup and verify requests become jobs. */
@Controller('v1')
export class BackupsController {
  constructor(@Inject(BackupsService) private readonly backups: BackupsService) {}

  @Get('sources')
  async sources() {
    return { sources: await this.backups.listSources() };
  }

  @Get('backups')
  async listBackups(@Query('source') source?: string) {
    return { backups: await this.backups.listBackups(source) };
  }

  @Get('backups/:id')
  getBackup(@Param('id') id: string, @Query('entries') entries?: string, @Query('include') include?: string | string[], @Query('exclude') exclude?: string | string[]) {
    return this.backups.getBackup(id, entries === 'true' ? { include: list(include), exclude: list(exclude) } : null);
  }

  @Post('backups')
  @HttpCode(202)
  async createBackup(@Body() body: unknown, @Headers(IDEMPOTENCY_KEY_HEADER) key?: string, @Headers('traceparent') traceparent?: string) {
    const req = parse(createBackupRequestSchema, body, 'POST /v1/backups');
    return { job: await this.backups.createBackup(req, { idempotencyKey: key ?? null, traceparent }) };
  }

  @Post('backups/:id/verify')
  @HttpCode(202)
  async verify(@Param('id') id: string, @Body() body: unknown, @Headers(IDEMPOTENCY_KEY_HEADER) key?: string, @Headers('traceparent') traceparent?: string) {
    const req = parse(verifyBackupRequestSchema, body, 'POST /v1/backups/:id/verify');
    return { job: await this.backups.verify(id, req.deep, { idempotencyKey: key ?? null, traceparent }) };
  }
}
