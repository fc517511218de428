import { jitterMs, runId } from './jitter.js';
import type { Timetable } from './timetable.js';

/** What happens to runs missed while no scheduler ran: dropped, or collapsed into one run. */
export type CatchUp = 'skip' | 'run-once';

export interface FiringInput {
  readonly scheduleId: string;
  readonly timetable: Timetable;
  /** The earliest due time not yet handled. */
  readonly cursor: Date;
  readonly now: Date;
  readonly catchUp: CatchUp;
  /** Upper bound of the per-run delay. */
  readonly jitterMs: number;
  /** A due time older than this (plus the jitter bound) counts as missed, not late. */
  readonly graceMs: number;
  /** At most this many runs per call (the rest stay for the next). */
  readonly limit?: number;
}

export interface FiringPlan {
  /** Due times to run now, earliest first. */
  readonly fire: Date[];
  /** The first due time the plan leaves unhandled; null when the timetable has ended. */
  readonly cursor: Date | null;
  /** The earliest due time that was missed (older than the grace), if any. */
  readonly missed: Date | null;
}

/**
 * Decides which due runs fire at `now`. A run fires once `due + jitter(run id)` has passed. Due
 * times in [cursor, now - grace - jitter bound) were missed (no scheduler ran, or none was leader
 * for longer than the grace): `skip` drops them, `run-once` fires one run for them (named by the earliest), unless a
 * run that is not late fires in the same call anyway. Pure: every replica computes the same plan
 * from the same cursor and time.
 */
export function planFirings(input: FiringInput): FiringPlan {
  const { timetable, now } = input;
  const limit = input.limit ?? 100;
  const horizon = new Date(now.getTime() - input.graceMs - Math.max(0, input.jitterMs));
  let next: Date | null = timetable.atOrAfter(input.cursor);
  let missed: Date | null = null;
  if (next && next.getTime() < horizon.getTime()) {
    // The earliest missed run names the catch-up run: it depends on the cursor alone, so two
    // leaders overlapping in a failover (with different clocks) pick the same one.
    missed = next;
    next = timetable.atOrAfter(horizon);
  }
  const fire: Date[] = [];
  while (next && fire.length < limit && next.getTime() + jitterMs(runId(input.scheduleId, next), input.jitterMs) <= now.getTime()) {
    fire.push(next);
    next = timetable.atOrAfter(new Date(next.getTime() + 1));
  }
  if (input.catchUp === 'run-once' && missed && fire.length === 0) fire.push(missed);
  return { fire, cursor: next, missed };
}
