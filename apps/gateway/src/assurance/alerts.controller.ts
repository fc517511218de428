import { Controller, Get, Inject, Query } from '@nestjs/common';
import type { Db } from 'mongodb';
import { MongoAlertHistory } from '@tresor/alerting';
import type { AlertQuery } from '@tresor/alerting';
import type { Identity } from '@tresor/auth';
import { ALERT_LEVELS, alertStateSchema } from '@tresor/contracts';
import type { AlertLevel, ListAlertsResponse } from '@tresor/contracts';
import { UsageError } from '@tresor/errors';
import { CurrentIdentity, RequirePermission } from '../auth/access.decorator.js';
import { MONGO_DB } from '../core/tokens.js';
import { TenantsService } from '../tenants/tenants.service.js';
import { isoTime, oneOf, positiveInt } from '../core/query.js';

/** The alert history the monitoring service records (MongoDB `alerts`), read straight from the store like jobs. */
@Controller('v1/alerts')
export class AlertsController {
  private history: Promise<MongoAlertHistory> | undefined;

  constructor(
    @Inject(MONGO_DB) private readonly db: Db,
    @Inject(TenantsService) private readonly tenants: TenantsService,
  ) {}

  /** Newest raised first; `before` (the previous page's `next`) pages back through older alerts. */
  @Get()
  @RequirePermission('alerts:read')
  async list(
    @CurrentIdentity() who: Identity,
    @Query('state') state?: string,
    @Query('level') level?: string,
    @Query('source') source?: string,
    @Query('rule') rule?: string,
    @Query('since') since?: string,
    @Query('before') before?: string,
    @Query('limit') limit?: string,
  ): Promise<ListAlertsResponse> {
    const n = positiveInt('limit', limit, 100, 1000);
    const query: AlertQuery = {
      limit: n,
      ...(state ? { state: oneOf('state', state, alertStateSchema.options) } : {}),
      ...(level ? { levels: levels(level) } : {}),
      ...(source ? { source } : {}),
      ...(rule ? { rule } : {}),
      ...(since ? { since: isoTime('since', since) } : {}),
      ...(before ? { until: isoTime('before', before) } : {}),
    };
    this.history ??= MongoAlertHistory.open(this.db);
    const page = await (await this.history).query(query);
    const alerts = await this.tenants.visibleBySource(who, page, (a) => a.source);
    return { alerts, next: page.length === n ? page.at(-1)!.raisedAt : null };
  }
}

function levels(value: string): AlertLevel[] {
  return value.split(',').map((l) => {
    const level = l.trim().toUpperCase() as AlertLevel;
    if (!ALERT_LEVELS.includes(level)) throw new UsageError(`query level: ${l}: expected INFO, WARNING or CRITICAL (comma-separated)`);
    return level;
  });
}
