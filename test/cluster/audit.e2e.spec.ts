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
    expect(await verifyAudit(bus)).toMatchObject({ ok: true, entries: 2, checkpoints: 1, lastCheckpointSeq: 2 });
  });
});
