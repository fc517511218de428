import { Body, Controller, Get, Headers, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import type { Identity } from '@tresor/auth';
import { IDEMPOTENCY_KEY_HEADER } from '@tresor/contracts';
import { CurrentIdentity, RequirePermission } from '../auth/access.decorator.js';
import { list, parse } from '../core/parse.js';
import { BackupsService } from './backups.service.js';
import { createBackupRequestSchema, verifyBackupRequestSchema } from './backups.schema.js';

/** Sources and backups: catalog reads; backup and verify requests become jobs. */
@Controller('v1')
export class BackupsController {
  constructor(@Inject(BackupsService) private readonly backups: BackupsService) {}

  @Get('sources')
  @RequirePermission('sources:read')
  async sources(@CurrentIdentity() who: Identity) {
    return { sources: await this.backups.listSources(who) };
  }

  @Get('backups')
  @RequirePermission('backups:read')
  async listBackups(@CurrentIdentity() who: Identity, @Query('source') source?: string) {
    return { backups: await this.backups.listBackups(who, source) };
  }

  @Get('backups/:id')
  @RequirePermission('backups:read')
  getBackup(@CurrentIdentity() who: Identity, @Param('id') id: string, @Query('entries') entries?: string, @Query('include') include?: string | string[], @Query('exclude') exclude?: string | string[]) {
    return this.backups.getBackup(who, id, entries === 'true' ? { include: list(include), exclude: list(exclude) } : null);
  }

  @Post('backups')
  @HttpCode(202)
  @RequirePermission('backups:create')
  async createBackup(@CurrentIdentity() who: Identity, @Body() body: unknown, @Headers(IDEMPOTENCY_KEY_HEADER) key?: string, @Headers('traceparent') traceparent?: string) {
    const req = parse(createBackupRequestSchema, body, 'POST /v1/backups');
    return { job: await this.backups.createBackup(who, req, { idempotencyKey: key ?? null, traceparent }) };
  }

  @Post('backups/:id/verify')
  @HttpCode(202)
  @RequirePermission('backups:verify')
  async verify(@CurrentIdentity() who: Identity, @Param('id') id: string, @Body() body: unknown, @Headers(IDEMPOTENCY_KEY_HEADER) key?: string, @Headers('traceparent') traceparent?: string) {
    const req = parse(verifyBackupRequestSchema, body, 'POST /v1/backups/:id/verify');
    return { job: await this.backups.verify(who, id, req.deep, { idempotencyKey: key ?? null, traceparent }) };
  }
}
