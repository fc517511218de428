import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { backupLevelSchema, catchUpSchema, planRuleSchema } from '@tresor/contracts';
import { UsageError } from '@tresor/errors';
import { LevelPlan } from './plan.js';
import { CronTimetable, IntervalTimetable } from './timetable.js';
import type { Timetable } from './timetable.js';

/** One schedule of a standalone schedule file (`tresor schedule run`). */
export const localScheduleSchema = z
  .strictObject({
    /** Names the schedule's runs (`<id>@<due>`) and its state; letters, digits, `.`, `_`, `-`. */
    id: z.string().regex(/^[A-Za-z0-9._-]{1,100}$/, 'letters, digits, ".", "_" or "-" (at most 100)'),
    /** Directory to back up. */
    source: z.string().min(1),
    cron: z.string().min(1).optional(),
    /** A fixed interval in ms, instead of cron. */
    everyMs: z.number().int().min(1000).optional(),
    timezone: z.string().min(1).default('UTC'),
    level: backupLevelSchema.default('incremental'),
    plan: z.array(planRuleSchema).max(20).default([]),
    tags: z.array(z.string().min(1).max(100)).max(50).default([]),
    jitterMs: z.number().int().min(0).max(86_400_000).default(0),
    catchUp: catchUpSchema.default('skip'),
    paused: z.boolean().default(false),
  })
  .refine((s) => (s.cron === undefined) !== (s.everyMs === undefined), 'give exactly one of cron or everyMs');
export type LocalSchedule = z.infer<typeof localScheduleSchema>;

export const scheduleFileSchema = z.strictObject({ schedules: z.array(localScheduleSchema) });

/** A schedule of the file, ready to plan: its timetable and level plan checked. */
export interface LoadedSchedule extends LocalSchedule {
  readonly timetable: Timetable;
  readonly levels: LevelPlan;
}

/**
 * Reads and checks a schedule file (JSON). Errors name the file, the path inside it and what was
 * expected; duplicate ids and bad cron expressions, time zones or plans are refused.
 */
export async function loadScheduleFile(file: string, anchor = new Date(0)): Promise<LoadedSchedule[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`schedule file ${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`schedule file ${file}: not JSON (${(err as Error).message})`);
  }
  const parsed = scheduleFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UsageError(`schedule file ${file}: ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
  }
  return toLoadedSchedules(parsed.data.schedules, `schedule file ${file}`, anchor);
}

/**
 * Checks validated schedule entries (unique ids; cron expressions, time zones and plans that
 * parse) and makes them ready to plan; errors start with `where` and name the entry.
 */
export function toLoadedSchedules(schedules: readonly LocalSchedule[], where: string, anchor = new Date(0)): LoadedSchedule[] {
  const seen = new Set<string>();
  return schedules.map((s, i) => {
    if (seen.has(s.id)) throw new UsageError(`${where}: schedules.${i}.id: '${s.id}' is used twice`);
    seen.add(s.id);
    try {
      // Interval schedules of a file are anchored at the epoch, so restarts keep their grid.
      const timetable = s.cron !== undefined ? new CronTimetable(s.cron, s.timezone) : new IntervalTimetable(anchor, s.everyMs!);
      return { ...s, timetable, levels: new LevelPlan(s.plan, s.level, s.timezone) };
    } catch (err) {
      throw new UsageError(`${where}: schedules.${i} (${s.id}): ${(err as Error).message}`);
    }
  });
}
