import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSigningKeyPair } from '@tresor/crypto';
import { IntegrityError } from '@tresor/errors';
import { describe, expect, it, onTestFinished } from 'vitest';
import { AuditLog } from './audit-log.js';
import { trustedKeys } from './checkpoint.js';
import { GENESIS_HASH, hashEntry } from './entry.js';
import { JsonlAuditStore } from './jsonl/jsonl-audit-store.js';
import { verifyAuditChain } from './verify.js';

const signer = generateSigningKeyPair();
const entry = { actor: { user: 'u', roles: [], ip: null, userAgent: null }, action: 'a.b', target: 't', outcome: 'success' as const };

async function store(): Promise<JsonlAuditStore> {
  const dir = await mkdtemp(join(tmpdir(), 'tresor-auditlog-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return new JsonlAuditStore(dir);
}

describe('AuditLog', () => {
  it('chains entries from the genesis hash, over the canonical JSON without `hash`', async () => {
    const log = new AuditLog({ store: await store() });
    const a = await log.append(entry);
    const b = await log.append({ ...entry, details: { z: 1, a: [1, 'x'] } });
    expect(a).toMatchObject({ seq: 1, prevHash: GENESIS_HASH, requestId: null, traceId: null });
    expect(b.prevHash).toBe(a.hash);
    expect(hashEntry(b)).toBe(b.hash);
    expect(hashEntry({ ...b, details: { a: [1, 'x'], z: 1 } })).toBe(b.hash);
  });

  it('checkpoints after N entries, or at the first append T after the last checkpoint', async () => {
    let now = Date.parse('2026-11-26T09:00:00Z');
    const s = await store();
    const log = new AuditLog({ store: s, signer, checkpointEvery: 3, checkpointIntervalMs: 60_000, now: () => new Date(now) });
    for (let i = 0; i < 4; i += 1) await log.append(entry);
    expect((await s.lastCheckpoint())?.seq).toBe(3);
    now += 59_000;
    await log.append(entry);
    expect((await s.lastCheckpoint())?.seq).toBe(3);
    now += 2_000;
    await log.append(entry);
    expect(await s.lastCheckpoint()).toMatchObject({ seq: 6, time: '2026-11-26T09:01:01.000Z' });
    await log.append(entry);
    expect(await log.checkpoint()).toMatchObject({ seq: 7 });
    expect(await log.checkpoint()).toBeUndefined();
    expect(await verifyAuditChain(s, trustedKeys([signer.publicKeyPem]))).toMatchObject({ ok: true, checkpoints: 3, lastCheckpointSeq: 7, unprotectedEntries: 0 });
  });

  it('a store that ends with a damaged line refuses appends', async () => {
    const s = await store();
    const log = new AuditLog({ store: s });
    await log.append(entry);
    await appendFile(s.file, '{"seq":2,\n');
    await expect(new AuditLog({ store: s }).append(entry)).rejects.toBeInstanceOf(IntegrityError);
  });
});
