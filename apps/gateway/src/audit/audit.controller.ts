import { Controller, Get, Inject, Query } from '@nestjs/common';
import type { Bus } from '@tresor/messaging';
import { auditEntriesPage, verifyAudit } from '@tresor/service';
import { RequirePermission } from '../auth/access.decorator.js';
import { positiveInt } from '../core/query.js';
import { BUS } from '../core/tokens.js';

const MAX_PAGE = 1000;

/** The audit log, read through the audit service: chain verification and export pages. */
@Controller('v1/audit')
export class AuditController {
  constructor(@Inject(BUS) private readonly bus: Bus) {}

  /** Recomputes the whole chain; a broken chain is a 200 whose report says `ok: false` and names the entry. */
  @Get('verify')
  @RequirePermission('audit:read')
  async verify() {
    return { report: await verifyAudit(this.bus) };
  }

  /** Entries in chain order from seq `from` (default 1), at most `limit` (default 100, at most 1000); `next` continues. */
  @Get('entries')
  @RequirePermission('audit:read')
  async entries(@Query('from') from?: string, @Query('limit') limit?: string) {
    return auditEntriesPage(this.bus, positiveInt('from', from, 1), Math.min(MAX_PAGE, positiveInt('limit', limit, 100)));
  }
}
