import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OtlpReceiver } from '../support/otlp-receiver.js';
import type { ReceivedSpan } from '../support/otlp-receiver.js';
import { until } from '../support/wait.js';
import { PASSPHRASE, TestCluster } from './cluster.js';

const SERVER = 2;
const CLIENT = 3;
const PRODUCER = 4;
const CONSUMER = 5;

/**
 * Issue #8: one backup through the gateway is one trace across processes — the gateway's HTTP span
 * continues the caller's traceparent, the job travels over NATS to a backup-engine, whose stages
 * and storage calls reach the storage-gateway and its backend — exported over OTLP/HTTP to a real
 * HTTP sink. A service started without an OTLP endpoint exports nothing.
 */
describe('OpenTelemetry tracing across the cluster (docs/monitoring.md "Tracing")', () => {
  let cluster: TestCluster;
  let receiver: OtlpReceiver;
  let gateway: string;
  const secretContent = `content-canary-${randomBytes(12).toString('hex')}`;

  beforeAll(async () => {
    receiver = await OtlpReceiver.start();
    cluster = await TestCluster.create();
    const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_BSP_SCHEDULE_DELAY: '200' };
    // audit first and without the variable: the gateway's audit requests reach it with a traceparent.
    await cluster.start('audit');
    await cluster.start('storage-gateway', otel);
    await Promise.all([cluster.start('backup-engine', otel), cluster.start('recovery', otel)]);
    gateway = (await cluster.start('gateway', otel)).http;
  }, 180_000);
  afterAll(async () => {
    await cluster?.stop();
    await receiver?.stop();
  });

  it('one backup requested with a traceparent is one connected trace from gateway to engine to storage', async () => {
    const src = join(cluster.dir, 'keys');
    await mkdir(src, { recursive: true });
    for (let i = 0; i < 5; i++) await writeFile(join(src, `k${i}.pem`), `${secretContent}-${i}`, { mode: 0o600 });
    const traceId = randomBytes(16).toString('hex');
    const callerSpan = randomBytes(8).toString('hex');

    const r = await fetch(`${gateway}/v1/backups`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${cluster.token}`, traceparent: `00-${traceId}-${callerSpan}-01` },
      body: JSON.stringify({ source: { kind: 'filesystem', location: src } }),
    });
    expect(r.status).toBe(202);
    const { job } = (await r.json()) as { job: { id: string } };
    await until('the backup job to complete', 120_000, async () => {
      const j = await fetch(`${gateway}/v1/jobs/${job.id}`, { headers: { authorization: `Bearer ${cluster.token}` } });
      const state = ((await j.json()) as { job: { state: string } }).job.state;
      expect(state).not.toBe('failed');
      return state === 'completed' ? state : undefined;
    });

    // Every process exports on its own schedule: wait for the last span of each part of the chain.
    const spans = await until('the spans of the backup', 60_000, async () => {
      const t = receiver.trace(traceId);
      const has = (service: string, name: string) => t.some((s) => s.service === service && s.name === name);
      const complete = has('gateway', 'POST /v1/backups') && has('backup-engine', 'process backup') && has('backup-engine', 'backup.commit') && has('storage-gateway', 'storage.put');
      return complete ? t : undefined;
    });

    // The gateway's server span is the child of the caller's span, with the route template and status.
    const http = one(spans, 'gateway', 'POST /v1/backups');
    expect(http.parentSpanId).toBe(callerSpan);
    expect(http.kind).toBe(SERVER);
    expect(http.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.route': '/v1/backups', 'http.response.status_code': 202 });

    // Every span of the trace hangs off the caller's span: one tree, no orphan.
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    for (const s of spans) expect(ancestry(s, byId).at(-1), `${s.service} ${s.name} is connected`).toBe(callerSpan);

    // The job crosses NATS: gateway producer span -> engine consumer span.
    const publish = one(spans, 'gateway', 'publish backup');
    expect(publish.kind).toBe(PRODUCER);
    expect(publish.attributes['messaging.system']).toBe('nats');
    const consume = one(spans, 'backup-engine', 'process backup');
    expect(consume.kind).toBe(CONSUMER);
    expect(consume.parentSpanId).toBe(publish.spanId);
    expect(consume.attributes['tresor.job.id']).toBe(job.id);
    expect(consume.attributes['tresor.backup.files']).toBe(5);

    // Coarse stages are children of the job span.
    for (const stage of ['backup.open', 'backup.archive', 'backup.commit']) expect(one(spans, 'backup-engine', stage).parentSpanId).toBe(consume.spanId);

    // The archive upload: engine storage client span -> NATS request -> storage-gateway server span -> local backend span.
    const archivePut = spans.find((s) => s.service === 'backup-engine' && s.name === 'storage.put' && s.attributes['tresor.storage.key_prefix'] === 'archives/')!;
    expect(archivePut.kind).toBe(CLIENT);
    expect(archivePut.attributes['tresor.storage.backend']).toBe('storage-gateway');
    expect(archivePut.parentSpanId).toBe(one(spans, 'backup-engine', 'backup.archive').spanId);
    const localPut = spans.find((s) => s.service === 'storage-gateway' && s.name === 'storage.put' && s.attributes['tresor.storage.key_prefix'] === 'archives/')!;
    expect(localPut.attributes['tresor.storage.backend']).toBe('local');
    const chain = ancestry(localPut, byId);
    expect(chain).toContain(archivePut.spanId);
    const begin = byId.get(localPut.parentSpanId)!;
    expect(begin.service).toBe('storage-gateway');
    expect(begin.kind).toBe(SERVER);
    expect(byId.get(begin.parentSpanId)!.kind).toBe(CLIENT);
    expect(byId.get(begin.parentSpanId)!.service).toBe('backup-engine');
    // The manifest (the commit point) is written under the commit stage.
    const manifestPut = spans.find((s) => s.service === 'backup-engine' && s.name === 'storage.put' && s.attributes['tresor.storage.key_prefix'] === 'manifests/')!;
    expect(manifestPut.parentSpanId).toBe(one(spans, 'backup-engine', 'backup.commit').spanId);

    // Resources name the service, its instance and version.
    expect(consume.resource).toMatchObject({ 'service.name': 'backup-engine', 'service.version': expect.any(String) });
    expect(String(consume.resource['service.instance.id'])).not.toBe('');

    // The audit service got the gateway's traced audit requests but has no endpoint: it exported nothing.
    expect(spans.some((s) => s.name === 'send audit.append')).toBe(true);
    expect(receiver.spans.filter((s) => s.service === 'audit')).toEqual([]);

    // Nothing exported carries the repository passphrase, the cluster token or a byte of the backed-up files.
    const exported = receiver.bodies.join('\n');
    for (const secret of [PASSPHRASE, cluster.token!, secretContent]) expect(exported).not.toContain(secret);
  }, 300_000);

  it('a restore requested with a traceparent is traced from the gateway through recovery to the storage backend', async () => {
    const traceId = randomBytes(16).toString('hex');
    const callerSpan = randomBytes(8).toString('hex');
    const r = await fetch(`${gateway}/v1/restores`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${cluster.token}`, traceparent: `00-${traceId}-${callerSpan}-01` },
      body: JSON.stringify({ backup: 'latest', target: join(cluster.dir, 'restored') }),
    });
    expect(r.status).toBe(202);
    const { job } = (await r.json()) as { job: { id: string } };
    await until('the restore job to complete', 120_000, async () => {
      const j = await fetch(`${gateway}/v1/jobs/${job.id}`, { headers: { authorization: `Bearer ${cluster.token}` } });
      const state = ((await j.json()) as { job: { state: string } }).job.state;
      expect(state).not.toBe('failed');
      return state === 'completed' ? state : undefined;
    });
    // Every process exports on its own schedule (recovery's spans may arrive before the
    // storage-gateway's): wait for the last span of each part of the chain.
    const spans = await until('the spans of the restore', 60_000, async () => {
      const t = receiver.trace(traceId);
      const has = (service: string, name: string, prefix?: string) =>
        t.some((s) => s.service === service && s.name === name && (prefix === undefined || s.attributes['tresor.storage.key_prefix'] === prefix));
      const complete = has('gateway', 'POST /v1/restores') && has('recovery', 'process restore') && has('storage-gateway', 'storage.get', 'archives/');
      return complete ? t : undefined;
    });
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    for (const s of spans) expect(ancestry(s, byId).at(-1), `${s.service} ${s.name} is connected`).toBe(callerSpan);
    const consume = one(spans, 'recovery', 'process restore');
    expect(byId.get(consume.parentSpanId)).toMatchObject({ service: 'gateway', name: 'publish restore', kind: PRODUCER });
    const restore = one(spans, 'recovery', 'recovery.restore');
    expect(restore.parentSpanId).toBe(consume.spanId);
    expect(restore.attributes).toMatchObject({ 'tresor.restore.files': 5, 'tresor.restore.dry_run': false });
    // The archive is read through the storage-gateway from the local backend, inside the restore span.
    const localGet = spans.find((s) => s.service === 'storage-gateway' && s.name === 'storage.get' && s.attributes['tresor.storage.key_prefix'] === 'archives/');
    expect(localGet?.attributes['tresor.storage.backend']).toBe('local');
    expect(ancestry(localGet!, byId)).toContain(restore.spanId);
  }, 300_000);
});

describe('tracing shutdown', () => {
  it('a service flushes the spans it still buffers when it is stopped (SIGTERM)', async () => {
    const receiver = await OtlpReceiver.start();
    const cluster = await TestCluster.create();
    try {
      // A batch delay far beyond the test: only the shutdown flush can deliver the span.
      const service = await cluster.start('storage-gateway', { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_BSP_SCHEDULE_DELAY: '600000', OTEL_SERVICE_NAME: 'sg-flush' });
      const traceId = randomBytes(16).toString('hex');
      const r = await fetch(`${service.http}/no-such-route?token=tok-Qx9zzW`, { headers: { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` } });
      expect(r.status).toBe(404);
      await new Promise((r2) => setTimeout(r2, 500));
      expect(receiver.trace(traceId)).toEqual([]);
      const exited = new Promise((r2) => service.child.once('exit', r2));
      service.child.kill('SIGTERM');
      await exited;
      const [span] = receiver.trace(traceId);
      expect(span).toMatchObject({ service: 'sg-flush', name: 'GET unmatched', attributes: { 'http.route': 'unmatched', 'http.response.status_code': 404 } });
      // The route template only: the query string (here a token) is never recorded.
      expect(receiver.bodies.join('')).not.toContain('tok-Qx9zzW');
    } finally {
      await cluster.stop();
      await receiver.stop();
    }
  }, 180_000);
});

function one(spans: ReceivedSpan[], service: string, name: string): ReceivedSpan {
  const found = spans.filter((s) => s.service === service && s.name === name);
  expect(found.map((s) => `${s.service} ${s.name}`)).toEqual([`${service} ${name}`]);
  return found[0]!;
}

/** The span ids from `span`'s parent up; the last is the id of the first parent not in the trace. */
function ancestry(span: ReceivedSpan, byId: Map<string, ReceivedSpan>): string[] {
  const ids: string[] = [];
  for (let s: ReceivedSpan | undefined = span; s; s = byId.get(s.parentSpanId)) {
    ids.push(s.parentSpanId);
    if (ids.length > 100) throw new Error('cycle in the parent chain');
  }
  return ids;
}
