import { Body, Controller, Get, Inject, Post, Query } from '@nestjs/common';
import type { Db } from 'mongodb';
import { MongoDrillStore } from '@tresor/assurance';
import type { Identity } from '@tresor/auth';
import { COMMANDS, runDrillRequestSchema } from '@tresor/contracts';
import { UsageError } from '@tresor/errors';
import type { Bus } from '@tresor/messaging';
import { CurrentIdentity, RequirePermission } from '../auth/access.decorator.js';
import { parse } from '../core/parse.js';
import { BUS, MONGO_DB } from '../core/tokens.js';
import { TenantsService } from '../tenants/tenants.service.js';
import { isoTime, oneOf, positiveInt } from '../core/query.js';

/** A drill restores and deep-verifies whole backups: the request waits for it, up to this long. */
const DRILL_TIMEOUT_MS = 30 * 60_000;

/** Restore drills: their records (MongoDB `drills`), and a drill now, run by the monitoring service. */
@Controller('v1/drills')
export class DrillsController {
  constructor(
    @Inject(BUS) private readonly bus: Bus,
    @Inject(MONGO_DB) private readonly db: Db,
    @Inject(TenantsService) private readonly tenants: TenantsService,
  ) {}

  /** Newest finished first. */
  @Get()
  @RequirePermission('drills:read')
  async list(@CurrentIdentity() who: Identity, @Query('source') source?: string, @Query('outcome') outcome?: string, @Query('since') since?: string, @Query('limit') limit?: string) {
    const o = oneOf('outcome', outcome, ['ok', 'failed'] as const);
    const t = isoTime('since', since);
    const drills = await new MongoDrillStore(this.db).query({ ...(source ? { source } : {}), ...(o ? { outcome: o } : {}), ...(t ? { since: t } : {}), limit: positiveInt('limit', limit, 100, 1000) });
    return { drills: await this.tenants.visibleBySource(who, drills, (d) => d.source) };
  }

  /** Runs a drill of one source (or of every source the caller sees) and answers with its records once it finished. */
  @Post()
  @RequirePermission('drills:run')
  async run(@CurrentIdentity() who: Identity, @Body() body: unknown) {
    const req = parse(runDrillRequestSchema, body, 'POST /v1/drills');
    if (req.source) await this.tenants.assertLocation(who, req.source, `source ${req.source}`);
    else if (!this.tenants.seesAll(who)) throw new UsageError('POST /v1/drills: source: name the source to drill (every source needs access to every tenant)');
    const reply = await this.bus.request(COMMANDS.monitoringDrill, { v: 1, ...req }, { timeoutMs: DRILL_TIMEOUT_MS });
    return { drills: reply.drills };
  }
}
