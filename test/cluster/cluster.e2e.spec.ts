import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEADERS, MAX_MESSAGE_BYTES } from '@tresor/contracts';
import { TestCluster } from './cluster.js';
import { hashTree } from '../support/tree.js';

describe('cluster end to end (every service its own process)', () => {
  let cluster: TestCluster;
  let server: string;
  beforeAll(async () => {
    cluster = await TestCluster.create();
    server = (await cluster.startAll()).http;
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('backs up, lists and restores byte for byte through `tresor --server`, with the exact event sequence', async () => {
    const src = join(cluster.dir, 'keys');
    for (let i = 0; i < 30; i++) {
      await mkdir(join(src, `team${i % 3}`), { recursive: true });
      await writeFile(join(src, `team${i % 3}`, `key-${i}.pem`), createHash('sha256').update(String(i)).digest('hex').repeat(20), { mode: 0o600 });
    }
    const nc = await cluster.nats.connect();
    const events: { type: string; subject?: string }[] = [];
    const sub = nc.subscribe(`${cluster.nats.subjectPrefix}.events.>`, {
      callback: (_e, m) => {
        events.push(JSON.parse(Buffer.from(m.data).toString()) as { type: string; subject?: string });
      },
    });

    const backup = await cluster.cli(['--server', server, 'backup', src, '--json']);
    expect(backup.stderr).toBe('');
    expect(backup.code).toBe(0);
    const result = JSON.parse(backup.stdout) as { backupId: string; files: number };
    expect(result.files).toBe(30);

    const list = await cluster.cli(['list'], { TRESOR_SERVER: server });
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(result.backupId);
    expect(list.stdout).toContain(src);

    const target = join(cluster.dir, 'restored');
    const restore = await cluster.cli(['--server', server, 'restore', 'latest', '--target', target]);
    expect(restore.stderr).toBe('');
    expect(restore.code).toBe(0);
    expect(restore.stdout).toMatch(/restored 30 files/);
    expect(await hashTree(target)).toEqual(await hashTree(src));

    const missing = await cluster.cli(['--server', server, 'show', 'no-such-backup']);
    expect(missing.code).toBe(3);

    await nc.flush();
    sub.unsubscribe();
    const jobId = events.find((e) => e.type === 'io.tresor.backup.requested.v1')?.subject;
    const forBackup = events.filter((e) => e.subject === jobId && e.type.startsWith('io.tresor.backup.')).map((e) => e.type);
    expect(forBackup).toEqual([
      'io.tresor.backup.requested.v1',
      'io.tresor.backup.started.v1',
      'io.tresor.backup.progress.v1',
      'io.tresor.backup.completed.v1',
    ]);
  });

  it('serves health and its OpenAPI document, and a repeated POST with one Idempotency-Key is one job', async () => {
    expect((await fetch(`${server}/health/live`)).status).toBe(200);
    expect((await fetch(`${server}/health/ready`)).status).toBe(200);
    const doc = (await (await fetch(`${server}/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/backups', '/v1/restores', '/v1/jobs/{id}']));

    const src = join(cluster.dir, 'idempotent');
    await mkdir(src, { recursive: true });
    await writeFile(join(src, 'a.key'), 'key material', { mode: 0o600 });
    const post = async (key: string) => {
      const response = await fetch(`${server}/v1/backups`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': key, authorization: `Bearer ${cluster.token}` },
        body: JSON.stringify({ source: { kind: 'filesystem', location: src } }),
      });
      expect(response.status).toBe(202);
      return ((await response.json()) as { job: { id: string } }).job.id;
    };
    const first = await post('same-request-1');
    expect(await post('same-request-1')).toBe(first);
    expect(await post('another-request')).not.toBe(first);
  });

  it('answers malformed commands with error replies, dead-letters malformed jobs, and keeps serving', async () => {
    const nc = await cluster.nats.connect();
    const subject = `${cluster.nats.subjectPrefix}.cmd.storage.head`;
    const ask = async (data: Uint8Array): Promise<{ status?: string; body: { error?: { code: string; message: string } } }> => {
      const reply = await nc.request(subject, data, { timeout: 5000 });
      return { status: reply.headers?.get(HEADERS.status), body: JSON.parse(Buffer.from(reply.data).toString()) };
    };
    const enc = (s: string): Uint8Array => Buffer.from(s);
    expect((await ask(enc('{not json'))).body.error?.message).toMatch(/not valid JSON/);
    expect((await ask(enc('{"v":2,"key":"x"}'))).body.error?.message).toMatch(/unsupported schema version 2/);
    expect((await ask(enc('{"v":1}'))).body.error?.message).toMatch(/key/);
    const big = await ask(Buffer.alloc(MAX_MESSAGE_BYTES - 1024, 0x20));
    expect(big.status).toBe('error');
    expect((await ask(enc('{"v":1,"key":"repository.json"}'))).body).toMatchObject({ v: 1, object: { key: 'repository.json' } });

    // A malformed job on the work queue goes to the dead-letter stream with its reason.
    const h = natsHeaders();
    h.set(HEADERS.jobId, 'bogus');
    const { jetstream } = await import('@nats-io/jetstream');
    const js = jetstream(nc);
    await js.publish(`${cluster.nats.subjectPrefix}.jobs.backup`, enc('{"v":1,"jobId":"bogus"}'), { headers: h });
    const dlq = await js.consumers.get(`${cluster.nats.namePrefix}TRESOR_DLQ`);
    const dead = await dlq.next({ expires: 20_000 });
    expect(dead?.headers?.get(HEADERS.deadLetterReason)).toMatch(/backup job: source/);
    expect(dead?.headers?.get(HEADERS.originalSubject)).toBe(`${cluster.nats.subjectPrefix}.jobs.backup`);
  });
});
