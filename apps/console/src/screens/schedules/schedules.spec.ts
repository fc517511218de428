import { describe, expect, it } from 'vitest';
import { EMPTY_POLICY, EMPTY_SCHEDULE, POLICY_ERROR_HINTS, SCHEDULE_ERROR_HINTS, fieldOfError, policyRequest, scheduleRequest } from './schedules';

describe('schedules screen model', () => {
  it('sends only the fields the kind takes', () => {
    expect(scheduleRequest({ ...EMPTY_SCHEDULE, source: '/k', tags: 'a, b,' })).toEqual({ kind: 'cron', cron: '0 2 * * *', timezone: 'UTC', paused: false, backup: { source: { kind: 'filesystem', location: '/k' }, level: 'incremental', tags: ['a', 'b'] } });
    expect(scheduleRequest({ ...EMPTY_SCHEDULE, kind: 'interval', everyMinutes: '1.5', source: '/k' })).toMatchObject({ kind: 'interval', everyMs: 90_000 });
  });

  it('leaves empty policy fields out and passes numbers as typed', () => {
    expect(policyRequest({ ...EMPTY_POLICY, keepDaily: '', keepWeekly: '', keepMonthly: '-1', keepTags: 'release, ', timeZone: ' Europe/Berlin ' })).toEqual({ keepMonthly: -1, keepTags: ['release'], timeZone: 'Europe/Berlin' });
  });

  it('finds the field a server error is about', () => {
    const policyFields = ['keepLast', 'keepDaily', 'keepWithin', 'timeZone'];
    expect(fieldOfError('POST /v1/retention/preview: policy.keepDaily: Too small: expected number to be >=0', policyFields, POLICY_ERROR_HINTS)).toBe('keepDaily');
    expect(fieldOfError("POST /v1/retention/preview: policy: keep-within '30 days' is not a duration", policyFields, POLICY_ERROR_HINTS)).toBe('keepWithin');
    const scheduleFields = ['cron', 'timezone', 'everyMinutes', 'at', 'source'];
    expect(fieldOfError("cron expression 'every day' has 2 fields: use 5 (minute hour day month weekday) or 6 (second first)", scheduleFields, SCHEDULE_ERROR_HINTS)).toBe('cron');
    expect(fieldOfError("time zone 'Mars/Base' is not an IANA time zone (e.g. UTC, Europe/Berlin)", scheduleFields, SCHEDULE_ERROR_HINTS)).toBe('timezone');
    expect(fieldOfError('the gateway cannot be reached', scheduleFields, SCHEDULE_ERROR_HINTS)).toBeUndefined();
  });
});
