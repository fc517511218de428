import { describe, expect, it } from 'vitest';
import { freshnessOf } from '../../domain/freshness';
import { NO_FILTER, filterBackups, verifyStatusOf } from './backups';
import type { JobRecord, ListedBackup } from './backups';
import { INITIAL_PROGRESS, foldJobEvent, isFinal } from './job-events';

const backup = (id: string, source: string, completedAt: string, tags: string[] = []): ListedBackup => ({
  id, sourceId: `s-${source}`, source, level: 'full', parentId: null, createdAt: completedAt, completedAt, tags,
  archiveSize: 1, archiveSha256: '0'.repeat(64), files: 1, dirs: 0, bytesIn: 1, bytesStored: 1,
});
const verify = (backupId: string, createdAt: string, state: string, ok?: boolean): JobRecord => ({
  id: `v-${backupId}-${createdAt}`, kind: 'verify', state, params: { backupId, deep: false }, result: ok === undefined ? null : { ok }, error: null, createdAt, updatedAt: createdAt,
});

describe('backups screen filters', () => {
  const backups = [backup('b1', '/keys/a', '2026-11-01T10:00:00Z', ['nightly']), backup('b2', '/keys/b', '2026-11-03T10:00:00Z'), backup('b3', '/keys/a', '2026-11-05T10:00:00Z')];
  const jobs = [verify('b1', '2026-11-02T00:00:00Z', 'completed', true), verify('b1', '2026-11-04T00:00:00Z', 'completed', false), verify('b2', '2026-11-04T00:00:00Z', 'running')];

  it('judges a backup by its newest verify job', () => {
    expect(['b1', 'b2', 'b3'].map((id) => verifyStatusOf(jobs, id))).toEqual(['failed', 'running', 'unverified']);
  });

  it('filters by source, status, day range and text, newest first', () => {
    const ids = (f: Partial<typeof NO_FILTER>) => filterBackups(backups, jobs, { ...NO_FILTER, ...f }).map((b) => b.id);
    expect(ids({})).toEqual(['b3', 'b2', 'b1']);
    expect(ids({ source: '/keys/a' })).toEqual(['b3', 'b1']);
    expect(ids({ status: 'unverified' })).toEqual(['b3']);
    expect(ids({ search: 'NIGHT' })).toEqual(['b1']);
    expect(ids({ from: '2026-11-02', to: '2026-11-04' })).toEqual(['b2']);
  });
});

describe('source freshness', () => {
  const now = new Date('2026-11-26T12:00:00Z');
  it('is fresh within the RPO, stale within twice it, overdue beyond, never without a backup', () => {
    expect(freshnessOf('2026-11-26T00:00:00Z', now)).toBe('fresh');
    expect(freshnessOf('2026-11-25T00:00:00Z', now)).toBe('stale');
    expect(freshnessOf('2026-11-23T00:00:00Z', now)).toBe('overdue');
    expect(freshnessOf(undefined, now)).toBe('never');
  });

  it("follows the monitoring service's firing freshness alert, which knows the source's own RPO", () => {
    expect(freshnessOf('2026-11-26T00:00:00Z', now, 'WARNING')).toBe('stale');
    expect(freshnessOf('2026-11-26T00:00:00Z', now, 'CRITICAL')).toBe('overdue');
    expect(freshnessOf(undefined, now, 'CRITICAL')).toBe('never');
  });
});

describe('job progress from events', () => {
  it('folds a backup job from requested to completed, and a failure', () => {
    const steps: [string, Record<string, unknown>][] = [
      ['backup.requested', { jobId: 'j' }],
      ['backup.started', { jobId: 'j', attempt: 1 }],
      ['backup.progress', { jobId: 'j', phase: 'reading', files: 1000, bytesIn: 5000 }],
      ['backup.progress', { jobId: 'j', phase: 'uploaded', files: 1200, bytesIn: 6000 }],
      ['backup.completed', { jobId: 'j', backupId: 'B', files: 1200, bytesIn: 6000, bytesStored: 900 }],
    ];
    const phases: string[] = [];
    let s = INITIAL_PROGRESS;
    for (const [name, data] of steps) {
      s = foldJobEvent(s, name, data);
      phases.push(s.phase);
    }
    expect(phases).toEqual(['requested', 'running', 'running', 'uploaded', 'completed']);
    expect(s).toMatchObject({ backupId: 'B', files: 1200, bytesStored: 900 });
    expect(isFinal(s)).toBe(true);
    expect(foldJobEvent(s, 'backup.requested', {})).toBe(s);
    // `requested` after `started` (the job was queued before the event went out) keeps it running.
    const running = foldJobEvent(INITIAL_PROGRESS, 'backup.started', { jobId: 'j' });
    expect(foldJobEvent(running, 'backup.requested', { jobId: 'j' }).phase).toBe('running');
    expect(foldJobEvent(INITIAL_PROGRESS, 'verify.failed', { error: { code: 'IO', message: 'storage gone' } })).toEqual({ phase: 'failed', error: 'storage gone' });
  });
});
