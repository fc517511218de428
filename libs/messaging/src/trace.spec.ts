import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { context, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError, clearRegisteredSecrets, registerSecret } from '@tresor/errors';
import { LocalStore, tracedStore } from '@tresor/storage';
import { contextFromTraceparent, startSpan, traceIdOf, withSpan } from './trace.js';

const CANARY = 'canary-Zq8sQ3-span-secret';

describe('spans with an SDK registered', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  let dir: string;
  beforeAll(async () => {
    provider.register();
    registerSecret(CANARY);
    dir = await mkdtemp(join(tmpdir(), 'tresor-trace-'));
  });
  afterAll(async () => {
    clearRegisteredSecrets();
    await provider.shutdown();
    trace.disable();
    context.disable();
    await rm(dir, { recursive: true, force: true });
  });

  it('no exported span attribute, status or name holds a registered secret or a secret-named field', async () => {
    await withSpan('job', { attributes: { 'tresor.note': `url https://u:${CANARY}@host/x`, 'tresor.token': 'abc123456', 'tresor.api_key': CANARY, 'tresor.files': 3 } }, async () => {
      const store = tracedStore(await LocalStore.open({ path: dir }), 'local');
      await store.put(`archives/${CANARY}`, Buffer.from(`contents ${CANARY}`));
      for await (const _ of store.list('archives/')) void _;
      await store.get(`archives/${CANARY}`).then((s) => s.resume());
      await expect(store.get(`archives/missing-${CANARY}`)).rejects.toThrow();
      const failing = startSpan('failing');
      failing.end(new UsageError(`bad passphrase ${CANARY}`));
    });
    await new Promise((r) => setTimeout(r, 50));
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => s.name).sort()).toEqual(['failing', 'job', 'storage.get', 'storage.get', 'storage.list', 'storage.put'].sort());
    const exported = JSON.stringify(spans.map((s) => ({ name: s.name, attributes: s.attributes, status: s.status, events: s.events })));
    expect(exported).not.toContain(CANARY);
    expect(exported).not.toContain('abc123456');
    const job = spans.find((s) => s.name === 'job')!;
    expect(job.attributes).toEqual({ 'tresor.note': 'url https://u:[redacted]@host/x', 'tresor.files': 3 });
    const put = spans.find((s) => s.name === 'storage.put')!;
    expect(put.attributes).toMatchObject({ 'tresor.storage.backend': 'local', 'tresor.storage.key_prefix': 'archives/', 'tresor.storage.operation': 'put' });
    // The storage span is the child of the span active around the call.
    expect(put.parentSpanContext?.spanId).toBe(job.spanContext().spanId);
    expect(spans.find((s) => s.name === 'failing')!.attributes['error.type']).toBe('USAGE');
  });

  it('continues a traceparent, and prefers the active span of the same trace as the finer parent', async () => {
    const traceId = 'a'.repeat(32);
    const outer = startSpan('outer', { parent: `00-${traceId}-${'b'.repeat(16)}-01` });
    expect(outer.traceId).toBe(traceId);
    const inner = await context.with(outer.context, async () => startSpan('inner', { parent: `00-${traceId}-${'c'.repeat(16)}-01` }));
    inner.end();
    outer.end();
    const spans = exporter.getFinishedSpans();
    expect(spans.find((s) => s.name === 'inner')!.parentSpanContext?.spanId).toBe(outer.spanId);
    expect(spans.find((s) => s.name === 'outer')!.parentSpanContext?.spanId).toBe('b'.repeat(16));
  });
});

describe('spans without an SDK (the default)', () => {
  it('still give the trace fresh span ids, continue a caller trace and start one when there is none', () => {
    const parent = `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01`;
    const child = startSpan('x', { parent });
    expect(child.traceId).toBe('1'.repeat(32));
    expect(child.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(child.spanId).not.toBe('2'.repeat(16));
    expect(child.traceparent).toBe(`00-${'1'.repeat(32)}-${child.spanId}-01`);
    const fresh = startSpan('y', { parent: 'garbage' });
    expect(fresh.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(fresh.traceId).not.toBe('1'.repeat(32));
    expect(traceIdOf(fresh.traceparent)).toBe(fresh.traceId);
    expect(traceIdOf(`00-${'0'.repeat(32)}-${'2'.repeat(16)}-01`)).toBeUndefined();
    expect(trace.getSpanContext(contextFromTraceparent('nope'))).toBeUndefined();
  });
});
