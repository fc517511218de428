import type { BackupLevel, CreateScheduleRequest, ScheduleRecord } from '@tresor/contracts';
import { createBackupRequestSchema, createScheduleRequestSchema } from '@tresor/contracts';
import { UsageError } from '@tresor/errors';
import { LevelPlan } from './plan.js';
import { CronTimetable, IntervalTimetable, OnceTimetable } from './timetable.js';
import type { Timetable } from './timetable.js';

/** The fields of a schedule the store keeps (the shape of the catalog's `NewSchedule`). */
export interface ScheduleDefinition {
  readonly kind: 'once' | 'interval' | 'cron';
  readonly firstRunAt: Date;
  readonly everyMs: number | null;
  readonly cron: string | null;
  readonly timezone: string;
  readonly plan: readonly { cron: string; level: BackupLevel }[];
  readonly jitterMs: number;
  readonly catchUp: 'skip' | 'run-once';
  readonly paused: boolean;
  readonly backup: Record<string, unknown>;
}

/**
 * Checks a create-schedule request (fields that fit its kind, a valid cron expression, time zone
 * and plan) and turns it into what the store keeps. Throws `UsageError` naming the bad field.
 */
export function scheduleDefinition(request: CreateScheduleRequest, now = new Date()): ScheduleDefinition {
  const parsed = createScheduleRequestSchema.safeParse(request);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UsageError(`schedule: ${issue.path.join('.') || '(body)'}: ${issue.message}`);
  }
  const req = parsed.data;
  const backup = createBackupRequestSchema.parse(req.backup);
  const common = { timezone: req.timezone, plan: req.plan, jitterMs: req.jitterMs, catchUp: req.catchUp, paused: req.paused, backup };
  new LevelPlan(req.plan, backup.level, req.timezone);
  if (req.kind === 'once') {
    if (!req.at || req.everyMs !== undefined || req.startAt !== undefined || req.cron !== undefined) throw new UsageError('a once schedule takes at (and no everyMs, startAt or cron)');
    return { kind: 'once', firstRunAt: new Date(req.at), everyMs: null, cron: null, ...common };
  }
  if (req.kind === 'interval') {
    if (req.everyMs === undefined || req.at !== undefined || req.cron !== undefined) throw new UsageError('an interval schedule takes everyMs (and optionally startAt, not at or cron)');
    return { kind: 'interval', firstRunAt: req.startAt ? new Date(req.startAt) : now, everyMs: req.everyMs, cron: null, ...common };
  }
  if (req.cron === undefined || req.at !== undefined || req.everyMs !== undefined) throw new UsageError('a cron schedule takes cron (and optionally startAt, timezone, not at or everyMs)');
  new CronTimetable(req.cron, req.timezone);
  return { kind: 'cron', firstRunAt: req.startAt ? new Date(req.startAt) : now, everyMs: null, cron: req.cron, ...common };
}

/** When a stored schedule is due. */
export function timetableOf(schedule: ScheduleRecord): Timetable {
  switch (schedule.kind) {
    case 'cron':
      return new CronTimetable(schedule.cron ?? '', schedule.timezone);
    case 'interval':
      // Schedules stored before anchors were kept have their next run on the same grid.
      return new IntervalTimetable(new Date(schedule.anchor ?? schedule.nextRunAt ?? schedule.createdAt), schedule.everyMs ?? 0);
    case 'once':
      return new OnceTimetable(new Date(schedule.nextRunAt ?? schedule.createdAt));
  }
}

/** The level of the run of `schedule` due at `due`: its plan, else the level of its backup request. */
export function levelOf(schedule: ScheduleRecord, due: Date): BackupLevel {
  const fallback = createBackupRequestSchema.parse(schedule.backup).level;
  return schedule.plan.length ? new LevelPlan(schedule.plan, fallback, schedule.timezone).levelAt(due) : fallback;
}
