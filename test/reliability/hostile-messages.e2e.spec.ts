import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/nats-core';
import { TresorClient } from '@tresor/client';
import type { JobRecord } from '@tresor/contracts';
import { MAX_MESSAGE_BYTES } from '@tresor/contracts';
import { TestCluster } from '../cluster/cluster.js';
import { until } from '../support/wait.js';

/** Bodies no well-behaved client sends. */
const hostileBodies = (): [string, Uint8Array][] => [
  ['empty', new Uint8Array()],
  ['random bytes', randomBytes(64)],
  ['invalid UTF-8', Buffer.from([0xff, 0xfe, 0xfd, 0x7b])],
  ['torn JSON', Buffer.from('{"source":{"kind":"filesy')],
  ['JSON null', Buffer.from('null')],
  ['JSON array', Buffer.from('[1,2,3]')],
  ['wrong types', Buffer.from('{"source":1,"level":{"x":[]},"tags":"nightly"}')],
  ['prototype pollution', Buffer.from('{"__proto__":{"admin":true},"constructor":{"prototype":{"admin":true}}}')],
  ['deep nesting', Buffer.from(`${'['.repeat(100_000)}${']'.repeat(100_000)}`)],
  ['huge string', Buffer.from(JSON.stringify({ source: { kind: 'filesystem', location: 'x'.repeat(MAX_MESSAGE_BYTES - 4096) } }))],
  ['path traversal', Buffer.from(JSON.stringify({ source: { kind: 'filesystem', location: '../../../../etc' }, target: '/etc' }))],
];

/**
 * Malformed and oversized messages, over HTTP to the gateway and over NATS to every subject the
 * services used during a real backup: each is refused (4xx, or an error reply, or dropped), no
 * service crashes or wedges, and a real backup still completes afterwards.
 */
describe('hostile HTTP bodies and NATS messages against a running cluster', () => {
  let cluster: TestCluster | undefined;
  let client: TresorClient;
  let http: string;
  let nc: NatsConnection;
  let src: string;
  const seenSubjects = new Set<string>();
  const figures = { http: 0, http4xx: 0, nats: 0, natsErrorReplies: 0, natsNoReply: 0 };

  const backup = async (): Promise<JobRecord> => {
    const job = await client.backups.create({ source: { kind: 'filesystem', location: src } }, { idempotencyKey: randomUUID() });
    return until('the backup to finish', 120_000, async () => {
      const j = await client.jobs.get(job.id);
      return j.state === 'completed' || j.state === 'failed' ? j : undefined;
    });
  };
  const servicesAlive = () => {
    for (const s of cluster!.services) expect(s.child.exitCode, `${s.name} still running`).toBeNull();
  };

  beforeAll(async () => {
    cluster = await TestCluster.create();
    http = (await cluster.startAll()).http;
    client = new TresorClient({ url: http });
    src = join(cluster.dir, 'keys');
    await mkdir(src, { recursive: true });
    for (let i = 0; i < 3; i++) await writeFile(join(src, `key-${i}.pem`), `key ${i}\n`, { mode: 0o600 });
    nc = await cluster.nats.connect();
    // Learn the subjects the services really use, from one real backup.
    const sub = nc.subscribe(`${cluster.nats.subjectPrefix}.>`, {
      callback: (_err, msg) => {
        if (!msg.subject.includes('.health.')) seenSubjects.add(msg.subject);
      },
    });
    expect((await backup()).state).toBe('completed');
    sub.unsubscribe();
  }, 300_000);
  afterAll(async () => {
    console.log(`hostile-messages figures: ${JSON.stringify({ ...figures, subjects: seenSubjects.size })}`);
    await cluster?.stop();
  });

  it('the gateway answers every hostile body with a 4xx, never starting work, and 413 when oversized', { timeout: 300_000 }, async () => {
    const token = cluster!.token!;
    const routes = ['/v1/backups', '/v1/restores', '/v1/schedules', '/v1/auth/login'];
    const bodies: [string, Uint8Array][] = [
      ...hostileBodies(),
      ['2 MiB body', Buffer.alloc(2 * 1024 * 1024, 0x61)],
      // Valid JSON under the HTTP limit, ~800 KiB of restore patterns: bounded by the schema.
      ['800 KiB of patterns', Buffer.from(JSON.stringify({ target: '/tmp/x', include: Array.from({ length: 200 }, () => 'p'.repeat(4000)) }))],
    ];
    for (const route of routes) {
      for (const [what, body] of bodies) {
        for (const contentType of ['application/json', 'text/plain', 'application/x-www-form-urlencoded']) {
          const response = await fetch(`${http}${route}`, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': contentType, 'idempotency-key': randomUUID() },
            body: Buffer.from(body),
          });
          await response.arrayBuffer();
          figures.http++;
          // A 4xx: refused as the client's fault. The oversized ones included: the gateway reads
          // such a body to its end (libs/service oversized-bodies), so fetch gets the 413, not EPIPE.
          expect(Math.floor(response.status / 100), `${route} ${what} (${contentType}): status ${response.status}`).toBe(4);
          // A body that says nothing valid must never start work (202/201).
          expect([200, 201, 202], `${route} ${what} (${contentType}) started work`).not.toContain(response.status);
          if (what === '2 MiB body' && contentType === 'application/json') expect(response.status, `${route} ${what}`).toBe(413);
          figures.http4xx++;
        }
      }
    }
    // The body that used to be a 502 (its audit entry did not fit in a NATS message) is named bad input.
    const huge = await fetch(`${http}/v1/backups`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
      body: Buffer.from(hostileBodies().find(([what]) => what === 'huge string')![1]),
    });
    expect(huge.status).toBe(400);
    expect(((await huge.json()) as { error: { message: string } }).error.message).toMatch(/source\.location/);
    servicesAlive();
  });

  it('every subject the services use takes hostile messages without a crash, and work goes on', async () => {
    expect(seenSubjects.size).toBeGreaterThan(0);
    for (const subject of seenSubjects) {
      for (const [, body] of hostileBodies()) {
        figures.nats++;
        try {
          const reply = await nc.request(subject, body, { timeout: 2000 });
          // A reply to garbage is an error reply, never a success.
          expect(reply.headers?.get('Tresor-Status'), `${subject}: reply status`).not.toBe('ok');
          figures.natsErrorReplies++;
        } catch {
          // No responder, or a timeout: a dropped message (JetStream subjects store it for a consumer).
          figures.natsNoReply++;
        }
      }
    }
    // Messages JetStream stored are delivered to the services now: give them time to chew on them.
    await new Promise((r) => setTimeout(r, 10_000));
    servicesAlive();
    let after: JobRecord;
    try {
      after = await backup();
    } catch (err) {
      for (const s of cluster!.services) console.log(`--- ${s.name}\n${s.logs.slice(-15).join('\n')}`);
      throw err;
    }
    expect(after.error).toBeNull();
    expect(after.state).toBe('completed');
    servicesAlive();
  });
});
