import { describe, expect, it } from 'vitest';
import type { BackupRecord } from '@tresor/catalog';
import { ConflictError, IntegrityError, IoError, UnavailableError } from '@tresor/errors';
import { NoReplyError } from '@tresor/messaging';
import { backupIdOf, decideAfterFailure, isTransient } from './retry.js';
import type { CommitLedger } from './retry.js';

const ID = '20261126T100715Z-0000000a';
const ARCHIVE = `archives/${ID}.tra`;
const MANIFEST = `manifests/${ID}.json`;
const policy = { maxAttempts: 3, backoffMs: [2_000, 10_000] };
const lostCommitReply = new NoReplyError('storage.put.commit: no reply from storage-gateway on tresor.cmd.storage.put.commit: TIMEOUT');

/** A catalog that records the given backups, and counts how often it was asked. */
function ledger(committed: string[]): CommitLedger & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    committed: async (id) => {
      asked.push(id);
      return committed.includes(id) ? ({ id } as BackupRecord) : undefined;
    },
  };
}

describe('decideAfterFailure (what follows a failed backup attempt)', () => {
  it('completes the job with the backup when the commit landed and only its reply was lost', async () => {
    const catalog = ledger([ID]);
    const decision = await decideAfterFailure({ error: lostCommitReply, written: new Set([ARCHIVE, MANIFEST]), attempt: 1 }, catalog, policy);
    expect(decision).toEqual({ kind: 'committed', backup: { id: ID } });
    expect(catalog.asked).toEqual([ID]);
  });

  it('retries with backoff when the commit did not land', async () => {
    const decision = await decideAfterFailure({ error: lostCommitReply, written: new Set([ARCHIVE, MANIFEST]), attempt: 1 }, ledger([]), policy);
    expect(decision).toEqual({ kind: 'retry', afterMs: 2_000 });
    const second = await decideAfterFailure({ error: lostCommitReply, written: new Set([ARCHIVE, MANIFEST]), attempt: 2 }, ledger([]), policy);
    expect(second).toEqual({ kind: 'retry', afterMs: 10_000 });
  });

  it('does not ask the catalog about an attempt that never reached its commit (a lost chunk reply)', async () => {
    const catalog = ledger([ID]);
    const decision = await decideAfterFailure({ error: new NoReplyError('storage.put.chunk: no reply'), written: new Set([ARCHIVE]), attempt: 1 }, catalog, policy);
    expect(decision).toEqual({ kind: 'retry', afterMs: 2_000 });
    expect(catalog.asked).toEqual([]);
  });

  it('fails on a non-transient error, and on a transient one once the attempts are used up', async () => {
    const integrity = await decideAfterFailure({ error: new IntegrityError('stored bytes differ'), written: new Set([ARCHIVE]), attempt: 1 }, ledger([]), policy);
    expect(integrity.kind).toBe('fail');
    const refused = await decideAfterFailure({ error: new ConflictError('lost the lock on source /k; not committing'), written: new Set([ARCHIVE]), attempt: 1 }, ledger([]), policy);
    expect(refused.kind).toBe('fail');
    const last = await decideAfterFailure({ error: lostCommitReply, written: new Set([ARCHIVE, MANIFEST]), attempt: 3 }, ledger([]), policy);
    expect(last).toEqual({ kind: 'fail', why: 'attempt 3 of 3' });
  });

  it('completes with a committed backup even when the later failure is not transient (no second backup)', async () => {
    const decision = await decideAfterFailure({ error: new ConflictError(`job j changed while completing`), written: new Set([ARCHIVE, MANIFEST]), attempt: 3 }, ledger([ID]), policy);
    expect(decision.kind).toBe('committed');
  });

  it('fails rather than retries when the catalog cannot tell whether the commit landed', async () => {
    const unreachable: CommitLedger = { committed: async () => { throw new UnavailableError('cannot read backups: catalog mongodb:tresor: connection refused'); } };
    const decision = await decideAfterFailure({ error: lostCommitReply, written: new Set([ARCHIVE, MANIFEST]), attempt: 1 }, unreachable, policy);
    expect(decision.kind).toBe('fail');
    expect(decision.kind === 'fail' && decision.why).toMatch(/cannot tell whether backup .* was committed/);
  });

  it('retries before the archive put began (no backup id yet)', async () => {
    const decision = await decideAfterFailure({ error: new Error('TIMEOUT'), written: new Set(), attempt: 1 }, ledger([]), policy);
    expect(decision).toEqual({ kind: 'retry', afterMs: 2_000 });
  });
});

describe('isTransient', () => {
  it('is true for a lost request or reply, an unreachable dependency and untyped errors; false for other typed errors', () => {
    expect(isTransient(lostCommitReply)).toBe(true);
    expect(isTransient(new UnavailableError('audit.append: no responders'))).toBe(true);
    expect(isTransient(new Error('TIMEOUT'))).toBe(true);
    expect(isTransient(new IoError('no space left on device (ENOSPC)'))).toBe(false);
    expect(isTransient(new IntegrityError('bad'))).toBe(false);
  });
});

describe('backupIdOf', () => {
  it('is the owner of the archive key, undefined before the archive put', () => {
    expect(backupIdOf(new Set([MANIFEST, ARCHIVE]))).toBe(ID);
    expect(backupIdOf(new Set())).toBeUndefined();
  });
});
