import { Inject, Injectable } from '@nestjs/common';
import type { Identity } from '@tresor/auth';
import { tenantAllowed } from '@tresor/auth';
import type { MongoScheduleStore } from '@tresor/catalog';
import { TenantsService } from '../tenants/tenants.service.js';
import type { z } from 'zod';
import { NotFoundError, UsageError } from '@tresor/errors';
import { parse } from '../core/parse.js';
import { SCHEDULE_STORE } from '../core/tokens.js';
import { createBackupRequestSchema } from './schedules.schema.js';
import type { createScheduleRequestSchema } from './schedules.schema.js';

/** Backup schedules in the catalog (the scheduler service fires them). */
@Injectable()
export class SchedulesService {
  constructor(
    @Inject(SCHEDULE_STORE) private readonly schedules: MongoScheduleStore,
    @Inject(TenantsService) private readonly tenants: TenantsService,
  ) {}

  private async visible(who: Identity, schedule: { backup: Record<string, unknown> }): Promise<boolean> {
    if (this.tenants.seesAll(who)) return true;
    const location = (schedule.backup.source as { location?: string } | undefined)?.location;
    return location !== undefined && tenantAllowed(who.tenants, await this.tenants.ofLocation(location));
  }

  /** Creates a once or interval schedule after checking that its fields fit its kind. */
  async create(who: Identity, req: z.infer<typeof createScheduleRequestSchema>) {
    const backup = parse(createBackupRequestSchema, req.backup, 'POST /v1/schedules: backup');
    await this.tenants.claim(who, backup.source.location, backup.source.tenant);
    if (req.kind === 'once') {
      if (!req.at || req.everyMs !== undefined || req.startAt !== undefined) throw new UsageError('a once schedule takes at (and no everyMs or startAt)');
      return this.schedules.create({ kind: 'once', firstRunAt: new Date(req.at), backup });
    }
    if (req.everyMs === undefined || req.at !== undefined) throw new UsageError('an interval schedule takes everyMs (and optionally startAt, not at)');
    return this.schedules.create({ kind: 'interval', everyMs: req.everyMs, firstRunAt: req.startAt ? new Date(req.startAt) : new Date(), backup });
  }

  /** The schedules of the caller's tenants. */
  async list(who: Identity) {
    const all = await this.schedules.list();
    const keep = await Promise.all(all.map((s) => this.visible(who, s)));
    return all.filter((_, i) => keep[i]);
  }

  /** One schedule. */
  async get(who: Identity, id: string) {
    const schedule = await this.schedules.get(id);
    if (!schedule || !(await this.visible(who, schedule))) throw new NotFoundError(`schedule ${id} not found`);
    return schedule;
  }

  /** Deletes a schedule. */
  async delete(who: Identity, id: string) {
    await this.get(who, id);
    if (!(await this.schedules.delete(id))) throw new NotFoundError(`schedule ${id} not found`);
  }
}
