import { Body, Controller, HttpCode, Inject, Post } from '@nestjs/common';
import type { Identity } from '@tresor/auth';
import { CurrentIdentity, RequirePermission } from '../auth/access.decorator.js';
import { parse } from '../core/parse.js';
import { RetentionService } from './retention.service.js';
import { retentionPreviewRequestSchema } from './retention.schema.js';

/** Retention policies: what they would keep, before anyone applies them. */
@Controller('v1/retention')
export class RetentionController {
  constructor(@Inject(RetentionService) private readonly retention: RetentionService) {}

  /** Reads only (a preview removes nothing), so it needs what listing the backups needs. */
  @Post('preview')
  @HttpCode(200)
  @RequirePermission('backups:read')
  async preview(@CurrentIdentity() who: Identity, @Body() body: unknown) {
    return this.retention.preview(who, parse(retentionPreviewRequestSchema, body, 'POST /v1/retention/preview'));
  }
}
