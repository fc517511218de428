import type { MongoJobStore, MongoScheduleStore } from '@tresor/catalog';
import type { CreateBackupRequest, ScheduleRecord } from '@tresor/contracts';
import type { Bus, Logger } from '@tresor/messaging';
import { levelOf, planFirings, runId, timetableOf } from '@tresor/scheduling';
import { submitBackupJob } from '@tresor/service';

export interface FireDeps {
  readonly bus: Bus;
  readonly jobs: MongoJobStore;
  readonly schedules: MongoScheduleStore;
  readonly logger: Logger;
  /** Due times older than this (plus the schedule's jitter bound) count as missed. */
  readonly graceMs: number;
  /** The leader's fencing token while it leads; null when this replica must not act. */
  leaderToken(): number | null;
}

/**
 * One scheduler tick: for every due schedule, first submits runs an earlier leader claimed but may
 * not have submitted, then claims the runs due now (atomically, fenced by the leader's token) and
 * submits each as a backup job with the idempotency key `<scheduleId>@<due ISO>`. Whatever
 * overlaps during a failover, a due run is at most one job; a run claimed and not yet submitted
 * stays pending until some leader submits it.
 */
export async function fireDue(deps: FireDeps, now = new Date()): Promise<number> {
  let submitted = 0;
  for (const schedule of await deps.schedules.due(now)) {
    const token = deps.leaderToken();
    if (token === null) break;
    let current: ScheduleRecord | undefined = schedule;
    if (current.nextRunAt && Date.parse(current.nextRunAt) <= now.getTime()) {
      const plan = planFirings({
        scheduleId: current.id,
        timetable: timetableOf(current),
        cursor: new Date(current.nextRunAt),
        now,
        catchUp: current.catchUp,
        jitterMs: current.jitterMs,
        graceMs: deps.graceMs,
      });
      if (plan.missed) deps.logger.warn({ scheduleId: current.id, missed: plan.missed.toISOString(), catchUp: current.catchUp }, 'runs missed while no scheduler led');
      const moved = (plan.cursor?.getTime() ?? null) !== Date.parse(current.nextRunAt);
      if (plan.fire.length > 0 || moved) {
        current = await deps.schedules.claim(current, plan.fire, plan.cursor, token);
        if (!current) {
          deps.logger.info({ scheduleId: schedule.id }, 'schedule changed or was claimed by another leader: skipping it this tick');
          continue;
        }
      }
    }
    for (const due of current.pending.map((d) => new Date(d))) {
      if (deps.leaderToken() === null) return submitted;
      await submitRun(deps, current, due);
      submitted++;
    }
  }
  return submitted;
}

/** Submits the run of `schedule` due at `due` and takes it off the pending list. */
async function submitRun(deps: FireDeps, schedule: ScheduleRecord, due: Date): Promise<void> {
  const key = runId(schedule.id, due);
  const request = { ...(schedule.backup as CreateBackupRequest), level: levelOf(schedule, due) };
  const job = await submitBackupJob({ bus: deps.bus, jobs: deps.jobs }, request, { idempotencyKey: key });
  await deps.schedules.fired(schedule.id, due, job.id);
  deps.logger.info({ scheduleId: schedule.id, due: due.toISOString(), level: request.level, jobId: job.id }, 'schedule fired');
}
