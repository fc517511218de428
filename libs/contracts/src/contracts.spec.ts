import { describe, expect, it } from 'vitest';
import { COMMANDS, EVENTS, JOBS, JOB_TRANSITIONS, findEventByType, subjects, topology } from './index.js';

describe('contracts', () => {
  it('every example is valid against its own schema', () => {
    for (const e of Object.values(EVENTS)) expect(e.data.safeParse(e.example).success, e.name).toBe(true);
    for (const j of Object.values(JOBS)) expect(j.schema.safeParse(j.example).success, j.kind).toBe(true);
    for (const c of Object.values(COMMANDS)) {
      if (!c.binaryRequest) expect(c.request.safeParse(c.example.request).success, c.name).toBe(true);
      if (!c.binaryReply) expect(c.reply.safeParse(c.example.reply).success, c.name).toBe(true);
    }
  });

  it('rejects a wrong schema version and unknown fields in jobs', () => {
    const example = JOBS.backup.example;
    expect(JOBS.backup.schema.safeParse({ ...example, v: 2 }).success).toBe(false);
    expect(JOBS.backup.schema.safeParse({ ...example, extra: 1 }).success).toBe(false);
    const { jobId: _, ...missing } = example;
    expect(JOBS.backup.schema.safeParse(missing).success).toBe(false);
  });

  it('puts every subject under the configured root and names streams with the prefix', () => {
    const t = topology({ subjectRoot: 't.x', namePrefix: 'T_X_', replicas: 3, jobAckWaitMs: 5000, jobMaxDeliver: 3 });
    expect(t.streams.events).toMatchObject({ name: 'T_X_TRESOR_EVENTS', subjects: ['t.x.events.>'], replicas: 3 });
    expect(t.consumers.backupEngine).toMatchObject({ durable: 'T_X_backup-engine', ackWaitMs: 5000, maxDeliver: 3, backoffMs: [5000, 10000] });
    expect(subjects().event('backup.completed')).toBe('tresor.events.backup.completed');
  });

  it('finds event definitions by CloudEvent type', () => {
    expect(findEventByType('io.tresor.backup.completed.v1')?.name).toBe('backup.completed');
    expect(findEventByType('io.tresor.backup.completed.v9')).toBeUndefined();
  });

  it('ends every job lifecycle in completed or failed', () => {
    expect(JOB_TRANSITIONS.completed).toEqual([]);
    expect(JOB_TRANSITIONS.failed).toEqual([]);
    expect(JOB_TRANSITIONS.requested).toContain('queued');
  });
});
