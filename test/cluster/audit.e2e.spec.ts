import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoAuditStore } from '@tresor/audit-log';
import { EVENTS, topology } from '@tresor/contracts';
import { Bus, createLogger } from '@tresor/messaging';
import { appendAudit, verifyAudit } from '@tresor/service';
import { TestCluster } from './cluster.js';
import { until } from '../support/wait.js';

describe('audit service (its own process)', () => {
  let cluster: TestCluster;
  let bus: Bus;
  beforeAll(async () => {
    cluster = await TestCluster.create();
    await cluster.start('audit', { TRESOR_AUDIT_CHECKPOINT_EVERY: '2' });
    const t = topology({ subjectRoot: cluster.nats.subjectPrefix, namePrefix: cluster.nats.namePrefix });
    bus = new Bus({ nc: await cluster.nats.connect(), topology: t, service: 'gateway', instance: 'audit-e2e', logger: createLogger('gateway', 'audit-e2e', 'silent') });
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('creates its checkpoint key, chains appended entries and events, and verifies', async () => {
    const key = await stat(join(cluster.repo, 'keys', 'audit-service.pem'));
    expect(key.mode & 0o777).toBe(0o600);

    const actor = { user: 'oscar.operator', roles: ['operator'], ip: '127.0.0.1', userAgent: 'e2e' };
    const first = await appendAudit(bus, { id: 'req-1', actor, action: 'backups:create', target: '/etc/keys', outcome: 'success' });
    expect(first.seq).toBe(1);
    await bus.publishEvent(EVENTS.backupRequested, { jobId: 'job-9', source: { kind: 'filesystem', location: '/etc/keys' }, level: 'full', tags: [] }, { subject: 'job-9' });

    const store = await MongoAuditStore.open(cluster.mongo.db);
    const entries = await until('the event to reach the chain', 20_000, async () => {
      const all = await store.read(1, 10);
      return all.length >= 2 ? all : undefined;
    });
    expect(entries.map((e) => [e.seq, e.action, e.target])).toEqual([
      [1, 'backups:create', '/etc/keys'],
      [2, 'backup.requested', 'job-9'],
    ]);
    // The checkpoint after entry 2 is written after that entry is stored: wait for it under load.
    const report = await until('the checkpoint after entry 2', 20_000, async () => {
      const r = await verifyAudit(bus);
      return r.checkpoints >= 1 ? r : undefined;
    });
    expect(report).toMatchObject({ ok: true, entries: 2, checkpoints: 1, lastCheckpointSeq: 2 });
  });

  it('tresor audit verify --server names an entry edited or deleted directly in MongoDB', async () => {
    const gateway = await cluster.start('gateway');
    const actor = { user: 'ada.auditor', roles: ['auditor'], ip: '127.0.0.1', userAgent: 'e2e' };
    for (const id of ['req-a', 'req-b', 'req-c']) await appendAudit(bus, { id, actor, action: 'restores:create', target: id, outcome: 'success' });
    const verify = () => cluster.cli(['audit', 'verify', '--server', gateway.http]);
    const clean = await verify();
    expect(clean.code, clean.stderr).toBe(0);

    const entries = cluster.mongo.db.collection<{ _id: number; target: string }>('audit_entries');
    const victim = (await entries.find({}).sort({ _id: 1 }).toArray()).find((e) => e.target === 'req-b')!;
    const restore = async (doc: object): Promise<void> => {
      await entries.replaceOne({ _id: victim._id }, doc as never, { upsert: true });
    };
    const original = (await entries.findOne({ _id: victim._id }))!;

    // Edited: a changed target no longer hashes to the recorded hash.
    await entries.updateOne({ _id: victim._id }, { $set: { target: 'somewhere-else' } });
    const edited = await verify();
    expect(edited.code).toBe(5);
    expect(edited.stderr).toContain(`entry ${victim._id} was edited`);
    await restore(original);
    expect((await verify()).code).toBe(0);

    // Deleted: the chain has a gap where the entry was.
    await entries.deleteOne({ _id: victim._id });
    const deleted = await verify();
    expect(deleted.code).toBe(5);
    expect(deleted.stderr).toMatch(new RegExp(`entr(y|ies) [^\\n]*${victim._id}`));
    await restore(original);
    expect((await verify()).code).toBe(0);
  }, 180_000);
});
