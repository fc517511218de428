import { describe, expect, it } from 'vitest';
import type { CloudEvent } from '@tresor/contracts';
import { eventName, jobIdOf, permissionFor, sseFrame } from './events.policy.js';

const event = (type: string, extra: Partial<CloudEvent> = {}): CloudEvent => ({
  specversion: '1.0', id: 'e1', source: '/tresor/x/y', type, time: '2026-11-26T00:00:00Z', datacontenttype: 'application/json', data: { jobId: 'from-data' }, ...extra,
});

describe('event stream policy', () => {
  it('relays job events under their kind read permission, and nothing else', () => {
    expect(permissionFor(event('io.tresor.backup.progress.v1'))).toBe('backups:read');
    expect(permissionFor(event('io.tresor.verify.completed.v1'))).toBe('backups:read');
    expect(permissionFor(event('io.tresor.restore.started.v1'))).toBe('restores:read');
    for (const t of ['io.tresor.alert.raised.v1', 'io.tresor.audit.appended.v1', 'io.tresor.approval.granted.v1', 'com.example.backup.progress.v1']) expect(permissionFor(event(t)), t).toBeUndefined();
  });

  it('takes the job from the CloudEvents subject, else data.jobId', () => {
    expect(jobIdOf(event('io.tresor.backup.started.v1', { subject: 'job-7' }))).toBe('job-7');
    expect(jobIdOf(event('io.tresor.backup.started.v1'))).toBe('from-data');
    expect(jobIdOf(event('io.tresor.backup.started.v1', { data: null }))).toBeUndefined();
  });

  it('frames an event as one SSE message: id, event name, the CloudEvent on one data line', () => {
    const e = event('io.tresor.backup.failed.v1', { data: { jobId: 'j', error: { message: 'line one\nline two' } } });
    const frame = sseFrame(42, e);
    expect(eventName(e)).toBe('backup.failed');
    expect(frame.split('\n')).toEqual(['id: 42', 'event: backup.failed', `data: ${JSON.stringify(e)}`, '', '']);
    expect(JSON.parse(frame.split('\n')[2]!.slice(6))).toEqual(e);
  });
});
