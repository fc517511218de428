import 'reflect-metadata';
import { Body, Controller, Global, Module, Post } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { describe, expect, it, onTestFinished } from 'vitest';
import { AuditLog, MongoAuditStore, trustedKeys, verifyAuditChain } from '@tresor/audit-log';
import { COMMANDS, topology } from '@tresor/contracts';
import { generateSigningKeyPair } from '@tresor/crypto';
import { IoError } from '@tresor/errors';
import { Bus, createLogger, ensureTopology } from '@tresor/messaging';
import { mongoDatabase, natsScope } from '../../../../test/support/infra.js';
import { RequirePermission } from '../auth/access.decorator.js';
import { ErrorFilter } from '../core/http-errors.js';
import { BUS } from '../core/tokens.js';
import { AuditModule } from './audit.module.js';

let handled = 0;

/** A state-changing route standing in for the real ones. */
@Controller('v1/things')
class ThingsController {
  @Post()
  @RequirePermission('backups:create')
  create(@Body() body: { location?: string }) {
    handled += 1;
    return { created: body.location };
  }
}

/** The gateway's AuditModule on a Fastify app with a bus; `withAuditService` starts the audit service on the same NATS namespace. */
/** `failing`: an audit service that answers every append with an error (it cannot store the entry). */
async function gateway(withAuditService: boolean | 'failing') {
  const nats = await natsScope();
  onTestFinished(() => nats.cleanup());
  const t = topology({ subjectRoot: nats.subjectPrefix, namePrefix: nats.namePrefix });
  const logger = createLogger('gateway', 'test', 'silent');
  const nc = await nats.connect();
  await ensureTopology(nc, Object.values(t.streams), []);
  const bus = new Bus({ nc, topology: t, service: 'gateway', instance: 'gw-test', logger });
  let store: MongoAuditStore | undefined;
  if (withAuditService === 'failing') {
    const auditNc = await nats.connect();
    const auditBus = new Bus({ nc: auditNc, topology: t, service: 'audit', instance: 'audit-test', logger });
    auditBus.serve(COMMANDS.auditAppend, async () => {
      throw new IoError('audit store: cannot write the entry to MongoDB');
    });
    await auditNc.flush();
  } else if (withAuditService) {
    const mongo = await mongoDatabase();
    onTestFinished(() => mongo.cleanup());
    store = await MongoAuditStore.open(mongo.db);
    const auditNc = await nats.connect();
    const auditBus = new Bus({ nc: auditNc, topology: t, service: 'audit', instance: 'audit-test', logger });
    const signer = generateSigningKeyPair();
    // The audit service's commands (apps/audit serves the same ones; apps do not import apps).
    const log = new AuditLog({ store, signer, checkpointEvery: 1 });
    const s = store;
    auditBus.serve(COMMANDS.auditAppend, async ({ entry }) => ({ v: 1 as const, entry: await log.append(entry) }));
    auditBus.serve(COMMANDS.auditVerify, async () => ({ v: 1 as const, report: await verifyAuditChain(s, trustedKeys([signer.publicKeyPem])) }));
    auditBus.serve(COMMANDS.auditEntries, async ({ from, limit }) => {
      const entries = await s.read(from, limit);
      return { v: 1 as const, entries, next: entries.length === limit ? from + limit : null };
    });
    await auditNc.flush();
  }
  @Global()
  @Module({})
  class Core {}
  const core: DynamicModule = { module: Core, providers: [{ provide: BUS, useValue: bus }], exports: [BUS] };
  @Module({ imports: [core, AuditModule], controllers: [ThingsController] })
  class App {}
  const app = await NestFactory.create<NestFastifyApplication>(App, new FastifyAdapter(), { logger: false });
  app.useGlobalFilters(new ErrorFilter());
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  onTestFinished(() => app.close());
  return { app, store };
}

describe('gateway AuditModule', () => {
  it('audits a state-changing request before its handler runs, and serves verify and entries', async () => {
    const { app, store } = await gateway(true);
    const before = handled;
    const res = await app.inject({ method: 'POST', url: '/v1/things', payload: { location: '/etc/keys', password: 'never-recorded' }, headers: { 'user-agent': 'vitest-agent', 'x-request-id': 'req-42' } });
    expect(res.statusCode).toBe(201);
    expect(handled).toBe(before + 1);
    const [entry] = await store!.read(1, 10);
    expect(entry).toMatchObject({ seq: 1, action: 'backups:create', target: '/etc/keys', outcome: 'success', requestId: 'req-42', actor: { user: 'anonymous', userAgent: 'vitest-agent' } });
    expect(JSON.stringify(entry)).not.toContain('never-recorded');

    const verify = await app.inject({ method: 'GET', url: '/v1/audit/verify' });
    expect(verify.json()).toMatchObject({ report: { ok: true, entries: 1, checkpoints: 1 } });
    const entries = await app.inject({ method: 'GET', url: '/v1/audit/entries?from=1&limit=5' });
    expect(entries.json()).toMatchObject({ entries: [{ seq: 1, id: entry!.id }], next: null });
    expect((await app.inject({ method: 'GET', url: '/v1/audit/entries?limit=0' })).statusCode).toBe(400);
  });

  it('searches entries by target, action, outcome and time, and exports the matches as JSON lines and CSV', async () => {
    const { app } = await gateway(true);
    for (const location of ['/etc/keys', '/srv/data', '/etc/keys-old', '=cmd|calc']) expect((await app.inject({ method: 'POST', url: '/v1/things', payload: { location } })).statusCode).toBe(201);
    const get = (query: string) => app.inject({ method: 'GET', url: `/v1/audit/entries?${query}` });
    const targets = async (query: string) => ((await get(query)).json() as { entries: { target: string }[] }).entries.map((e) => e.target);

    expect(await targets('target=KEYS')).toEqual(['/etc/keys', '/etc/keys-old']);
    expect(await targets('action=backups%3Acreate&outcome=success')).toEqual(['/etc/keys', '/srv/data', '/etc/keys-old', '=cmd|calc']);
    expect(await targets('action=approvals.')).toEqual([]);
    expect(await targets('outcome=denied')).toEqual([]);
    expect(await targets('until=2000-01-01T00:00:00Z')).toEqual([]);
    expect(await targets('since=2000-01-01T00:00:00Z&actor=anonymous&target=/srv')).toEqual(['/srv/data']);
    // A page ends at `limit` matches; `next` continues after the last one returned.
    const first = (await get('target=keys&limit=1')).json() as { entries: { seq: number }[]; next: number };
    expect(first.entries.map((e) => e.seq)).toEqual([1]);
    expect(await targets(`target=keys&limit=1&from=${first.next}`)).toEqual(['/etc/keys-old']);
    expect((await get('since=yesterday')).json()).toMatchObject({ error: { code: 'USAGE', message: 'query since: yesterday is not an ISO-8601 time' } });
    expect((await get('format=xml')).statusCode).toBe(400);

    const jsonl = await get('format=jsonl&target=keys');
    expect(jsonl.headers['content-type']).toMatch(/^application\/x-ndjson/);
    expect(jsonl.headers['content-disposition']).toMatch(/^attachment; filename="tresor-audit-.*\.jsonl"$/);
    expect(jsonl.body.trimEnd().split('\n').map((l) => (JSON.parse(l) as { target: string }).target)).toEqual(['/etc/keys', '/etc/keys-old']);

    const csv = await get('format=csv');
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const lines = csv.body.trimEnd().split('\r\n');
    expect(lines[0]).toBe('seq,time,actor,roles,ip,action,target,outcome,requestId,traceId,details,prevHash,hash');
    expect(lines).toHaveLength(5);
    expect(lines[2]).toMatch(/^2,[^,]+,anonymous,,[^,]*,backups:create,\/srv\/data,success,/);
    // A cell a spreadsheet would run as a formula is written as text.
    expect(lines[4]).toContain(",'=cmd|calc,");
  });

  it('refuses a state-changing request (503) and does not run it when no audit service answers', async () => {
    const { app } = await gateway(false);
    const before = handled;
    const res = await app.inject({ method: 'POST', url: '/v1/things', payload: { location: '/etc/keys' } });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ error: { code: 'UNAVAILABLE', message: expect.stringMatching(/^request refused: the audit log cannot record it \(audit\.append: no reply from audit/) } });
    expect(handled).toBe(before);
    // An export is refused with the error, not answered with an empty file.
    const exported = await app.inject({ method: 'GET', url: '/v1/audit/entries?format=csv' });
    expect(exported.statusCode).toBe(503);
    expect(exported.headers['content-disposition']).toBeUndefined();
    expect(exported.json()).toMatchObject({ error: { code: 'UNAVAILABLE' } });
  });

  it('refuses a state-changing request (502) and does not run it when the audit service answers that it failed', async () => {
    const { app } = await gateway('failing');
    const before = handled;
    const res = await app.inject({ method: 'POST', url: '/v1/things', payload: { location: '/etc/keys' } });
    expect(res.statusCode).toBe(502);
    expect(res.json()).toEqual({ error: { code: 'IO', message: 'request refused: the audit log cannot record it (audit store: cannot write the entry to MongoDB)' } });
    expect(handled).toBe(before);
  });
});
