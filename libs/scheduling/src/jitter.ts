import { createHash } from 'node:crypto';

/**
 * A delay in [0, maxMs] derived from the run id alone, so every replica (and a leader taking over
 * mid-way) delays the same run by the same amount and agrees on whether it is due yet.
 */
export function jitterMs(runId: string, maxMs: number): number {
  if (maxMs <= 0) return 0;
  const h = createHash('sha256').update(runId).digest();
  // 48 bits keep the modulo bias far below a millisecond for any sensible bound.
  return h.readUIntBE(0, 6) % (Math.floor(maxMs) + 1);
}

/** The id of the run of `scheduleId` due at `due`: also the idempotency key of its backup job. */
export function runId(scheduleId: string, due: Date): string {
  return `${scheduleId}@${due.toISOString()}`;
}
