import { Inject, Injectable } from '@nestjs/common';
import type { Identity } from '@tresor/auth';
import { tenantAllowed } from '@tresor/auth';
import type { MongoJobStore, MongoScheduleStore } from '@tresor/catalog';
import type { CreateBackupRequest, CreateScheduleRequest } from '@tresor/contracts';
import type { Bus } from '@tresor/messaging';
import { levelOf, scheduleDefinition } from '@tresor/scheduling';
import { submitBackupJob } from '@tresor/service';
import { TenantsService } from '../tenants/tenants.service.js';
import { NotFoundError } from '@tresor/errors';
import { BUS, JOB_STORE, SCHEDULE_STORE } from '../core/tokens.js';

/** Backup schedules in the catalog (the scheduler service fires them). */
@Injectable()
export class SchedulesService {
  constructor(
    @Inject(SCHEDULE_STORE) private readonly schedules: MongoScheduleStore,
    @Inject(TenantsService) private readonly tenants: TenantsService,
    @Inject(BUS) private readonly bus: Bus,
    @Inject(JOB_STORE) private readonly jobs: MongoJobStore,
  ) {}

  private async visible(who: Identity, schedule: { backup: Record<string, unknown> }): Promise<boolean> {
    if (this.tenants.seesAll(who)) return true;
    const location = (schedule.backup.source as { location?: string } | undefined)?.location;
    return location !== undefined && tenantAllowed(who.tenants, await this.tenants.ofLocation(location));
  }

  /** Creates a once, interval or cron schedule after checking its fields (kind, cron, time zone, plan). */
  async create(who: Identity, req: CreateScheduleRequest) {
    const def = scheduleDefinition(req);
    const source = (def.backup as CreateBackupRequest).source;
    await this.tenants.claim(who, source.location, source.tenant);
    return this.schedules.create(def);
  }

  /** Replaces a visible schedule's definition, checked as on create; its id and run history stay. */
  async replace(who: Identity, id: string, req: CreateScheduleRequest) {
    await this.get(who, id);
    const def = scheduleDefinition(req);
    const source = (def.backup as CreateBackupRequest).source;
    await this.tenants.claim(who, source.location, source.tenant);
    const updated = await this.schedules.replace(id, def);
    if (!updated) throw new NotFoundError(`schedule ${id} not found`);
    return updated;
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

  /** Pauses a schedule, or resumes it from its next due time. */
  async setPaused(who: Identity, id: string, paused: boolean) {
    await this.get(who, id);
    const updated = await this.schedules.setPaused(id, paused);
    if (!updated) throw new NotFoundError(`schedule ${id} not found`);
    return updated;
  }

  /**
   * Submits the schedule's backup now, at the level its plan gives for now. Outside the timetable:
   * the job's idempotency key is `<id>@run-now:<request key>`, never a due time's.
   */
  async runNow(who: Identity, id: string, opts: { idempotencyKey: string | null; traceparent: string | undefined }) {
    const schedule = await this.get(who, id);
    const request = { ...(schedule.backup as CreateBackupRequest), level: levelOf(schedule, new Date()) };
    return submitBackupJob({ bus: this.bus, jobs: this.jobs }, request, { idempotencyKey: opts.idempotencyKey ? `${id}@run-now:${opts.idempotencyKey}` : null, ...(opts.traceparent ? { traceparent: opts.traceparent } : {}) });
  }
}
