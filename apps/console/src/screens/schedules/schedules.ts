// Types of the gateway's schedule and retention answers, and the pure parts of the Schedules
// screen (form -> request, server error -> field), testable without a browser.

/** A schedule as GET /v1/schedules lists it. */
export interface ScheduleRecord {
  id: string;
  kind: 'once' | 'interval' | 'cron';
  everyMs: number | null;
  anchor: string | null;
  cron: string | null;
  timezone: string;
  jitterMs: number;
  catchUp: 'skip' | 'run-once';
  paused: boolean;
  backup: { source?: { kind?: string; location?: string; tenant?: string }; level?: string; tags?: string[] };
  nextRunAt: string | null;
  fired: number;
  lastJobId: string | null;
  lastRunAt: string | null;
  createdAt: string;
}

/** The schedule form's fields, as the inputs hold them (text). */
export interface ScheduleForm {
  kind: 'once' | 'interval' | 'cron';
  cron: string;
  timezone: string;
  everyMinutes: string;
  at: string;
  source: string;
  level: 'full' | 'differential' | 'incremental';
  tags: string;
  paused: boolean;
}

export const EMPTY_SCHEDULE: ScheduleForm = { kind: 'cron', cron: '0 2 * * *', timezone: 'UTC', everyMinutes: '60', at: '', source: '', level: 'incremental', tags: '', paused: false };

/** The form of an existing schedule (to edit it). */
export function formOf(s: ScheduleRecord): ScheduleForm {
  return {
    kind: s.kind,
    cron: s.cron ?? '',
    timezone: s.timezone,
    everyMinutes: s.everyMs ? String(s.everyMs / 60_000) : '60',
    at: s.kind === 'once' && s.nextRunAt ? s.nextRunAt : '',
    source: s.backup.source?.location ?? '',
    level: (s.backup.level as ScheduleForm['level'] | undefined) ?? 'incremental',
    tags: (s.backup.tags ?? []).join(', '),
    paused: s.paused,
  };
}

const list = (text: string): string[] => text.split(',').map((t) => t.trim()).filter(Boolean);

/** The POST /v1/schedules body of a form: only the fields its kind takes, so the server judges the values. */
export function scheduleRequest(f: ScheduleForm): Record<string, unknown> {
  const timing =
    f.kind === 'cron' ? { cron: f.cron, timezone: f.timezone } : f.kind === 'interval' ? { everyMs: Math.round(Number(f.everyMinutes) * 60_000) } : { at: f.at };
  return { kind: f.kind, ...timing, paused: f.paused, backup: { source: { kind: 'filesystem', location: f.source }, level: f.level, tags: list(f.tags) } };
}

/** How often a schedule fires, in words. */
export function timingOf(s: ScheduleRecord): string {
  if (s.kind === 'cron') return `cron ${s.cron ?? ''} (${s.timezone})`;
  if (s.kind === 'interval') return `every ${formatEvery(s.everyMs ?? 0)}`;
  return 'once';
}

function formatEvery(ms: number): string {
  const minutes = ms / 60_000;
  if (minutes >= 60 && minutes % 60 === 0) return `${minutes / 60} h`;
  if (Number.isInteger(minutes)) return `${minutes} min`;
  return `${ms / 1000} s`;
}

/** The retention policy form (docs/retention.md): counts and texts as typed. */
export interface PolicyForm {
  keepLast: string;
  keepHourly: string;
  keepDaily: string;
  keepWeekly: string;
  keepMonthly: string;
  keepYearly: string;
  keepWithin: string;
  keepTags: string;
  timeZone: string;
}

export const EMPTY_POLICY: PolicyForm = { keepLast: '', keepHourly: '', keepDaily: '7', keepWeekly: '4', keepMonthly: '12', keepYearly: '', keepWithin: '', keepTags: '', timeZone: '' };

export const COUNT_RULES = [
  ['keepLast', 'Keep last'],
  ['keepHourly', 'Keep hourly'],
  ['keepDaily', 'Keep daily'],
  ['keepWeekly', 'Keep weekly'],
  ['keepMonthly', 'Keep monthly'],
  ['keepYearly', 'Keep yearly'],
] as const;

/** The policy of the preview request: empty fields left out; numbers as typed (the server refuses bad ones). */
export function policyRequest(p: PolicyForm): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key] of COUNT_RULES) if (p[key].trim() !== '') out[key] = Number(p[key]);
  if (p.keepWithin.trim()) out.keepWithin = p.keepWithin.trim();
  if (list(p.keepTags).length > 0) out.keepTags = list(p.keepTags);
  if (p.timeZone.trim()) out.timeZone = p.timeZone.trim();
  return out;
}

/**
 * The form field a server's one-line error is about, so it is shown next to that field: the field
 * path the message names (`…: policy.keepLast: …`, `…: cron: …`), else the first hint that matches.
 */
export function fieldOfError(message: string, fields: readonly string[], hints: readonly (readonly [string, RegExp])[] = []): string | undefined {
  for (const m of message.matchAll(/(?:^|: )([\w.]+): /g)) {
    const last = m[1]!.split('.').at(-1)!;
    if (fields.includes(last)) return last;
  }
  return hints.find(([, pattern]) => pattern.test(message))?.[0];
}

/** A failed call's message and, when it names one of `fields`, that field (to show the message next to it). */
export function placeError<F extends string>(cause: unknown, fields: readonly F[], hints: readonly (readonly [string, RegExp])[]): { field: F | undefined; message: string } {
  const message = cause instanceof Error ? cause.message : String(cause);
  return { field: fieldOfError(message, fields, hints) as F | undefined, message };
}

/** Where the schedule endpoint's semantic errors belong (scheduling's messages name the thing, not the field). */
export const SCHEDULE_ERROR_HINTS = [
  ['cron', /cron/i],
  ['timezone', /time zone/i],
  ['everyMinutes', /interval|everyMs/i],
  ['at', /\bat\b/],
  ['source', /source|location/i],
] as const;

/** The same for the retention preview (policy's checks name rules by their CLI flags). */
export const POLICY_ERROR_HINTS = [
  ['keepWithin', /keep-within/],
  ['timeZone', /time zone/i],
  ['keepLast', /has no rule/],
] as const;

/** One backup in a retention preview. */
export interface PreviewedBackup {
  id: string;
  createdAt: string;
  level: string;
  tags: string[];
  bytesStored: number;
  reasons: string[];
}

/** POST /v1/retention/preview. */
export interface RetentionPreview {
  source: string;
  keep: PreviewedBackup[];
  remove: PreviewedBackup[];
}
