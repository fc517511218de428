import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditAppendInput, AuditEntry, AuditProblemKind } from '@tresor/contracts';
import { generateSigningKeyPair } from '@tresor/crypto';
import { describe, expect, it, onTestFinished } from 'vitest';
import { mongoDatabase } from '../../../test/support/infra.js';
import { AuditLog } from './audit-log.js';
import { trustedKeys } from './checkpoint.js';
import { hashEntry } from './entry.js';
import { JsonlAuditStore } from './jsonl/jsonl-audit-store.js';
import { MongoAuditStore } from './mongo/mongo-audit-store.js';
import type { AuditStore } from './store.js';
import { verifyAuditChain } from './verify.js';

const signer = generateSigningKeyPair();
const keys = trustedKeys([signer.publicKeyPem]);
const ENTRIES = 6;

/** Direct, out-of-band access to what a store holds: what an attacker with write access can do. */
interface Raw {
  entries(): Promise<AuditEntry[]>;
  /** Replaces every stored entry record, in this storage order, by these (raw) objects. */
  rewrite(records: unknown[]): Promise<void>;
  checkpoints(): Promise<Record<string, unknown>[]>;
  rewriteCheckpoints(records: unknown[]): Promise<void>;
}

interface Fixture {
  store: AuditStore;
  raw: Raw;
}

const action = (i: number): AuditAppendInput => ({
  actor: { user: `user${i}`, roles: ['operator'], ip: '10.0.0.1', userAgent: 'test' },
  action: 'backup.create',
  target: `/etc/keys/${i}`,
  outcome: 'success',
  requestId: `req-${i}`,
  details: { n: i, nested: { ok: true } },
});

async function jsonlFixture(): Promise<Fixture> {
  const dir = await mkdtemp(join(tmpdir(), 'tresor-audit-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  const store = new JsonlAuditStore(dir);
  const lines = async (file: string) => (await readFile(file, 'utf8').catch(() => '')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  const write = (file: string, records: unknown[]) => writeFile(file, records.map((r) => `${JSON.stringify(r)}\n`).join(''));
  return {
    store,
    raw: {
      entries: async () => (await lines(store.file)) as unknown as AuditEntry[],
      rewrite: (records) => write(store.file, records),
      checkpoints: () => lines(store.checkpointFile),
      rewriteCheckpoints: (records) => write(store.checkpointFile, records),
    },
  };
}

async function mongoFixture(): Promise<Fixture> {
  const mongo = await mongoDatabase();
  onTestFinished(() => mongo.cleanup());
  const store = await MongoAuditStore.open(mongo.db);
  const entries = mongo.db.collection<Record<string, unknown>>('audit_entries');
  const checkpoints = mongo.db.collection<Record<string, unknown>>('audit_checkpoints');
  const strip = ({ _id: _ignored, ...rest }: Record<string, unknown>) => rest;
  // Storage position is _id: records are laid down at _id 1, 2, 3... in the order given.
  const replaceAll = async (coll: typeof entries, records: unknown[]) => {
    await coll.deleteMany({});
    for (const [i, r] of records.entries()) await coll.insertOne({ ...(r as Record<string, unknown>), _id: i + 1 } as never);
  };
  return {
    store,
    raw: {
      entries: async () => (await entries.find({}).sort({ _id: 1 }).toArray()).map(strip) as unknown as AuditEntry[],
      rewrite: (records) => replaceAll(entries, records),
      checkpoints: async () => (await checkpoints.find({}).sort({ _id: 1 }).toArray()).map(strip),
      rewriteCheckpoints: (records) => replaceAll(checkpoints, records),
    },
  };
}

async function chain(make: () => Promise<Fixture>): Promise<Fixture & { entries: AuditEntry[] }> {
  const f = await make();
  const log = new AuditLog({ store: f.store, signer, checkpointEvery: 3, checkpointIntervalMs: 3_600_000 });
  for (let i = 1; i <= ENTRIES; i += 1) await log.append(action(i));
  return { ...f, entries: await f.raw.entries() };
}

async function expectProblem(store: AuditStore, kind: AuditProblemKind, seq: number): Promise<string> {
  const report = await verifyAuditChain(store, keys);
  expect(report.ok).toBe(false);
  expect(report.problem).toMatchObject({ kind, seq });
  expect(report.problem!.message).toContain(`${seq}`);
  return report.problem!.message;
}

/** A forged entry an attacker without the checkpoint key can make: valid hash, linked to entry `after`. */
function forge(after: AuditEntry): AuditEntry {
  const body = { ...after, seq: after.seq + 1, id: `forged-${after.seq}`, action: 'keys.destroy', prevHash: after.hash };
  return { ...body, hash: hashEntry(body) };
}

describe.each([
  ['JsonlAuditStore (file)', jsonlFixture],
  ['MongoAuditStore (FerretDB)', mongoFixture],
])('%s', (_name, make) => {
  it('an untouched chain verifies, with its checkpoints', async () => {
    const f = await chain(make);
    const report = await verifyAuditChain(f.store, keys);
    expect(report).toMatchObject({ ok: true, entries: ENTRIES, checkpoints: 2, lastSeq: ENTRIES, lastCheckpointSeq: 6, unprotectedEntries: 0 });
    expect(report.lastHash).toBe(f.entries[ENTRIES - 1]!.hash);
    expect(f.entries.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(f.entries[1]!.prevHash).toBe(f.entries[0]!.hash);
  });

  it('an edit of any one entry is named', async () => {
    for (let seq = 1; seq <= ENTRIES; seq += 1) {
      const f = await chain(make);
      await f.raw.rewrite(f.entries.map((e) => (e.seq === seq ? { ...e, target: '/somewhere/else' } : e)));
      await expectProblem(f.store, 'edited', seq);
    }
  });

  it('an edit whose hash was recomputed is named by the next link', async () => {
    const f = await chain(make);
    await f.raw.rewrite(f.entries.map((e) => (e.seq === 2 ? { ...e, outcome: 'failure', hash: hashEntry({ ...e, outcome: 'failure' }) } : e)));
    await expectProblem(f.store, 'edited', 2);
  });

  it('deleting any one entry is named', async () => {
    for (let seq = 1; seq <= ENTRIES; seq += 1) {
      const f = await chain(make);
      await f.raw.rewrite(f.entries.filter((e) => e.seq !== seq));
      await expectProblem(f.store, 'deleted', seq);
    }
  });

  it('inserting an entry anywhere before the head is named', async () => {
    for (let after = 1; after < ENTRIES; after += 1) {
      const f = await chain(make);
      const records: unknown[] = [];
      for (const e of f.entries) {
        records.push(e);
        if (e.seq === after) records.push(forge(e));
      }
      await f.raw.rewrite(records);
      await expectProblem(f.store, 'inserted', after + 1);
    }
  });

  it('swapping any two neighbouring entries is named', async () => {
    for (let first = 1; first < ENTRIES; first += 1) {
      const f = await chain(make);
      const records = [...f.entries];
      [records[first - 1], records[first]] = [records[first]!, records[first - 1]!];
      await f.raw.rewrite(records);
      const message = await expectProblem(f.store, 'reordered', first + 1);
      expect(message).toContain(`entry ${first}`);
    }
  });

  it('a chain rewritten and rehashed from entry 2 on no longer matches its signed checkpoint', async () => {
    const f = await chain(make);
    const rewritten: AuditEntry[] = [];
    for (const e of f.entries) {
      if (e.seq < 2) rewritten.push(e);
      else {
        const body = { ...e, actor: { ...e.actor, user: 'mallory' }, prevHash: rewritten[rewritten.length - 1]!.hash };
        rewritten.push({ ...body, hash: hashEntry(body) });
      }
    }
    await f.raw.rewrite(rewritten);
    await expectProblem(f.store, 'checkpoint-mismatch', 1);
  });

  it('a tampered checkpoint signature is named', async () => {
    const f = await chain(make);
    const cps = await f.raw.checkpoints();
    const sig = cps[1]!.signature as string;
    cps[1] = { ...cps[1], signature: `${sig[0] === 'A' ? 'B' : 'A'}${sig.slice(1)}` };
    await f.raw.rewriteCheckpoints(cps);
    await expectProblem(f.store, 'bad-checkpoint-signature', 6);
  });

  it('a checkpoint signed by an untrusted key is named', async () => {
    const f = await chain(make);
    const other = trustedKeys([generateSigningKeyPair().publicKeyPem]);
    const report = await verifyAuditChain(f.store, other);
    expect(report.problem).toMatchObject({ kind: 'bad-checkpoint-signature', seq: 3 });
  });

  it('appending an id twice stores it once', async () => {
    const f = await make();
    const log = new AuditLog({ store: f.store });
    const a = await log.append({ ...action(1), id: 'event:1' });
    const b = await log.append({ ...action(1), id: 'event:1' });
    expect(b).toEqual(a);
    expect((await f.raw.entries()).length).toBe(1);
  });

  it('concurrent appends through two logs on one store keep one unbroken chain', async () => {
    const f = await make();
    const a = new AuditLog({ store: f.store });
    const b = new AuditLog({ store: f.store });
    await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).append(action(i))));
    const report = await verifyAuditChain(f.store, keys);
    expect(report).toMatchObject({ ok: true, entries: 10, lastSeq: 10 });
  });
});
