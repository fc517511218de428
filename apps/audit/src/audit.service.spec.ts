import { randomUUID } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { MongoClient } from 'mongodb';
import { describe, expect, it, onTestFinished } from 'vitest';
import { AuditLog, MongoAuditStore, trustedKeys } from '@tresor/audit-log';
import type { AuditStore } from '@tresor/audit-log';
import { EVENTS, eventDataSchemaUri, eventType, topology } from '@tresor/contracts';
import type { CloudEvent } from '@tresor/contracts';
import { generateSigningKeyPair } from '@tresor/crypto';
import { IoError } from '@tresor/errors';
import { Bus, createLogger, encodeJson, ensureTopology } from '@tresor/messaging';
import { appendAudit, auditEntriesPage, verifyAudit } from '@tresor/service';
import { mongoDatabase, natsScope, startOwnFerretDb } from '../../../test/support/infra.js';
import { AuditService } from './audit.service.js';
import { eventEntryId, eventToAuditInput } from './events-to-entries.js';

const signer = generateSigningKeyPair();
const keys = trustedKeys([signer.publicKeyPem]);
const actor = { user: 'oscar.operator', roles: ['operator'], ip: '127.0.0.1', userAgent: 'vitest' };

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** An audit service and a caller on one test's NATS namespace, with the log in `store`. */
async function harness(store: AuditStore) {
  const nats = await natsScope();
  onTestFinished(() => nats.cleanup());
  const t = topology({ subjectRoot: nats.subjectPrefix, namePrefix: nats.namePrefix });
  const logger = createLogger('audit', 'test', 'silent');
  const serviceNc = await nats.connect();
  await ensureTopology(serviceNc, Object.values(t.streams), [t.consumers.audit]);
  const serviceBus = new Bus({ nc: serviceNc, topology: t, service: 'audit', instance: 'audit-test', logger });
  const log = new AuditLog({ store, signer, checkpointEvery: 2 });
  const service = new AuditService(serviceBus, log, keys, logger);
  service.serveCommands();
  const callerNc: NatsConnection = await nats.connect();
  const caller = new Bus({ nc: callerNc, topology: t, service: 'gateway', instance: 'gateway-test', logger });
  await callerNc.flush();
  await serviceNc.flush();
  return { t, service, log, caller, serviceNc, callerNc };
}

function cloudEvent(id: string, jobId: string): CloudEvent {
  return {
    specversion: '1.0',
    id,
    source: '/tresor/gateway/g1',
    type: eventType(EVENTS.backupRequested.name, 1),
    subject: jobId,
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    dataschema: eventDataSchemaUri(EVENTS.backupRequested.name, 1),
    data: { jobId, source: { kind: 'filesystem', location: '/etc/keys' }, level: 'full', tags: [] },
  };
}

describe('audit service', () => {
  it('stores every event of the stream in the chain exactly once, across redelivery', async () => {
    const mongo = await mongoDatabase();
    onTestFinished(() => mongo.cleanup());
    const store = await MongoAuditStore.open(mongo.db);
    const h = await harness(store);
    const events = [cloudEvent(randomUUID(), 'job-1'), cloudEvent(randomUUID(), 'job-2'), cloudEvent(randomUUID(), 'job-3')];
    for (const e of events) await h.caller.js.publish(h.t.subjects.event('backup.requested'), encodeJson(e), { msgID: e.id });
    // The first event again under another message id (a publisher's retry after the dedup window).
    await h.caller.js.publish(h.t.subjects.event('backup.requested'), encodeJson(events[0]), { msgID: `retry-${events[0]!.id}` });
    // Event 2 was stored by a consumer that died before its ack: the stream will deliver it again.
    await h.log.append(eventToAuditInput(events[1]!, 2));

    const stop = h.service.consumeEvents(h.t.consumers.audit);
    onTestFinished(stop);
    const jsm = await jetstreamManager(h.callerNc);
    await until('the audit consumer to take every message', async () => {
      const info = await jsm.consumers.info(h.t.consumers.audit.stream, h.t.consumers.audit.durable);
      return info.num_pending === 0 && info.num_ack_pending === 0 && info.delivered.stream_seq >= 4;
    });

    const entries = await store.read(1, 100);
    expect(entries.map((e) => e.id)).toEqual([eventEntryId(events[1]!.id), eventEntryId(events[0]!.id), eventEntryId(events[2]!.id)]);
    expect(entries[1]).toMatchObject({ action: 'backup.requested', target: 'job-1', outcome: 'success', actor: { user: 'service:/tresor/gateway/g1' } });
    expect((await verifyAudit(h.caller)).ok).toBe(true);
  });

  it('audit.append stores the entry before it replies; verify and entries read the chain', async () => {
    const mongo = await mongoDatabase();
    onTestFinished(() => mongo.cleanup());
    const store = await MongoAuditStore.open(mongo.db);
    const h = await harness(store);
    const first = await appendAudit(h.caller, { id: 'req-1', actor, action: 'backup.create', target: '/etc/keys', outcome: 'success', requestId: 'req-1' });
    expect(first).toMatchObject({ seq: 1, id: 'req-1', action: 'backup.create' });
    expect(await store.findById('req-1')).toEqual(first);
    const again = await appendAudit(h.caller, { id: 'req-1', actor, action: 'backup.create', target: '/etc/keys', outcome: 'success' });
    expect(again).toEqual(first);
    for (let i = 2; i <= 5; i += 1) await appendAudit(h.caller, { actor, action: 'restore.request', target: `/srv/r${i}`, outcome: 'denied' });

    const report = await verifyAudit(h.caller);
    expect(report).toMatchObject({ ok: true, entries: 5, lastSeq: 5, checkpoints: 2, lastCheckpointSeq: 4, unprotectedEntries: 1 });
    const page = await auditEntriesPage(h.caller, 2, 3);
    expect(page.entries.map((e) => e.seq)).toEqual([2, 3, 4]);
    expect(page.next).toBe(5);
    expect((await auditEntriesPage(h.caller, 5, 3)).next).toBeNull();

    await mongo.db.collection('audit_entries').updateOne({ _id: 3 as never }, { $set: { outcome: 'success' } });
    expect((await verifyAudit(h.caller)).problem).toMatchObject({ kind: 'edited', seq: 3 });
  });

  it('audit.append fails for the caller when the store is unavailable', async () => {
    const ferret = await startOwnFerretDb();
    let stopped = false;
    onTestFinished(async () => {
      if (!stopped) await ferret.stop();
    });
    const client = new MongoClient(ferret.url, { serverSelectionTimeoutMS: 1000 });
    onTestFinished(() => client.close());
    await client.connect();
    const store = await MongoAuditStore.open(client.db('tresor_audit_unavailable'));
    const h = await harness(store);
    await appendAudit(h.caller, { actor, action: 'backup.create', target: '/etc/keys', outcome: 'success' });

    await ferret.stop();
    stopped = true;
    const failed = appendAudit(h.caller, { id: 'req-lost', actor, action: 'restore.request', target: '/srv/restore', outcome: 'success' });
    await expect(failed).rejects.toBeInstanceOf(IoError);
    await expect(failed).rejects.toThrow(/audit store/);
  });
});
