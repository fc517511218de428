import type { BackupLevel } from '@tresor/contracts';
import { CronTimetable } from './timetable.js';

/** One rule of a level plan: at due times the cron expression names, back up at `level`. */
export interface PlanRule {
  readonly cron: string;
  readonly level: BackupLevel;
}

/**
 * A per-source level plan, e.g. `[{cron: '* * * * 0', level: 'full'}]` with a default of
 * `incremental`: the schedule's own cron says when a backup runs; the plan says at which level.
 */
export class LevelPlan {
  private readonly rules: readonly { cron: CronTimetable; level: BackupLevel }[];

  constructor(
    rules: readonly PlanRule[],
    readonly fallback: BackupLevel,
    timezone = 'UTC',
  ) {
    this.rules = rules.map((r) => ({ cron: new CronTimetable(r.cron, timezone), level: r.level }));
  }

  /** The level of the run due at `due`: the first rule whose expression names that time, else the fallback. */
  levelAt(due: Date): BackupLevel {
    return this.rules.find((r) => r.cron.matches(due))?.level ?? this.fallback;
  }
}
