import { Inject, Injectable } from '@nestjs/common';
import type { MongoScheduleStore } from '@tresor/catalog';
import type { z } from 'zod';
import { NotFoundError, UsageError } from '@tresor/errors';
import { parse } from '../core/parse.js';
import { SCHEDULE_STORE } from '../core/tokens.js';
import { createBackupRequestSchema } from './schedules.schema.js';
import type { createScheduleRequestSchema } from './schedules.schema.js';

/** Backup schedules in the catalog (the scheduler service fires them). */
@Injectable()
export class SchedulesService {
  constructor(@Inject(SCHEDULE_STORE) private readonly schedules: MongoScheduleStore) {}

  /** Creates a once or interval schedule after checking that its fields fit its kind. */
  create(req: z.infer<typeof createScheduleRequestSchema>) {
    const backup = parse(createBackupRequestSchema, req.backup, 'POST /v1/schedules: backup');
    if (req.kind === 'once') {
      if (!req.at || req.everyMs !== undefined || req.startAt !== undefined) throw new UsageError('a once schedule takes at (and no everyMs or startAt)');
      return this.schedules.create({ kind: 'once', firstRunAt: new Date(req.at), backup });
    }
    if (req.everyMs === undefined || req.at !== undefined) throw new UsageError('an interval schedule takes everyMs (and optionally startAt, not at)');
    return this.schedules.create({ kind: 'interval', everyMs: req.everyMs, firstRunAt: req.startAt ? new Date(req.startAt) : new Date(), backup });
  }

  /** Every schedule. */
  list() {
    return this.schedules.list();
  }

  /** One schedule. */
  async get(id: string) {
    const schedule = await this.schedules.get(id);
    if (!schedule) throw new NotFoundError(`schedule ${id} not found`);
    return schedule;
  }

  /** Deletes a schedule. */
  async delete(id: string) {
    if (!(await this.schedules.delete(id))) throw new NotFoundError(`schedule ${id} not found`);
  }
}
