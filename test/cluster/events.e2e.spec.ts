import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_TAIL_PREFIX } from '@tresor/messaging';
import { until } from '../support/wait.js';
import { TestCluster } from './cluster.js';

interface Frame {
  id?: string;
  event?: string;
  data?: { subject?: string; data: Record<string, unknown> };
  comment?: string;
}

/** A Server-Sent Events stream read with fetch (as the console does: EventSource cannot send Authorization). */
/**
 * A backup job's events as a reader must see them: started, progress, completed in this order, and
 * requested somewhere (the gateway queues the job before it publishes `requested`, so an engine may
 * start first; the stream keeps whatever order they were stored in).
 */
function expectBackupLifecycle(names: string[]): void {
  expect(names.filter((n) => n !== 'backup.requested')).toEqual(['backup.started', 'backup.progress', 'backup.completed']);
  expect(names.filter((n) => n === 'backup.requested')).toHaveLength(1);
}

class SseReader {
  readonly frames: Frame[] = [];
  private readonly abort = new AbortController();
  private buffer = '';
  private waiters: (() => void)[] = [];
  private done = false;
  status = 0;

  static async open(url: string, token: string, headers: Record<string, string> = {}): Promise<SseReader> {
    const reader = new SseReader();
    const res = await fetch(url, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream', ...headers }, signal: reader.abort.signal });
    reader.status = res.status;
    if (res.status !== 200) {
      reader.done = true;
      await res.body?.cancel();
      return reader;
    }
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    void reader.pump(res.body!);
    return reader;
  }

  private async pump(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of body) {
        this.buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = this.buffer.indexOf('\n\n')) !== -1) {
          this.parse(this.buffer.slice(0, end));
          this.buffer = this.buffer.slice(end + 2);
        }
        this.wake();
      }
    } catch {
      // aborted by close()
    }
    this.done = true;
    this.wake();
  }

  private parse(block: string): void {
    const frame: Frame = {};
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) frame.comment = line.slice(1).trim();
      else if (line.startsWith('id: ')) frame.id = line.slice(4);
      else if (line.startsWith('event: ')) frame.event = line.slice(7);
      else if (line.startsWith('data: ')) frame.data = JSON.parse(line.slice(6)) as Frame['data'];
    }
    this.frames.push(frame);
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Waits until a frame matches (the test's timeout bounds the wait). */
  async until(what: string, match: (f: Frame) => boolean): Promise<Frame> {
    for (;;) {
      const found = this.frames.find(match);
      if (found) return found;
      if (this.done) throw new Error(`stream ended before ${what}`);
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  /** Names of the events of one job, in the order they arrived. */
  eventsOf(jobId: string): string[] {
    return this.frames.filter((f) => f.data?.subject === jobId).map((f) => f.event!);
  }

  close(): void {
    this.abort.abort();
  }
}

describe('GET /v1/events: live job events over Server-Sent Events (real cluster)', () => {
  let cluster: TestCluster;
  let server: string;
  let dir: string;
  const tokens = { operator: '', paymentsAuditor: '', admin: '' };

  const post = async (token: string, path: string, body: unknown) => {
    const r = await fetch(`${server}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(r.status, `${path}: ${r.status}`).toBe(202);
    return ((await r.json()) as { job: { id: string } }).job.id;
  };
  /** An API token of one role in one tenant, minted by the harness's admin (who sees every tenant). */
  const apiToken = async (role: string, tenant: string) => {
    const r = await fetch(`${server}/v1/tokens`, { method: 'POST', headers: { authorization: `Bearer ${tokens.admin}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: `${role}-${tenant}`, roles: [role], tenants: [tenant], ttlSeconds: 3600 }) });
    expect(r.status).toBe(201);
    return ((await r.json()) as { token: string }).token;
  };
  const source = async (name: string) => {
    const d = join(dir, name);
    await mkdir(d, { recursive: true });
    for (let i = 0; i < 5; i++) await writeFile(join(d, `k${i}.key`), `key material ${name} ${i}\n`, { mode: 0o600 });
    return d;
  };
  const tailConsumers = async () => {
    const nc = await cluster.nats.connect();
    try {
      const jsm = await jetstreamManager(nc);
      const names: string[] = [];
      for await (const c of jsm.consumers.list(`${cluster.nats.namePrefix}TRESOR_EVENTS`)) if (c.name.startsWith(EVENT_TAIL_PREFIX)) names.push(c.name);
      return names;
    } finally {
      await nc.close();
    }
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tresor-events-'));
    cluster = await TestCluster.create();
    await cluster.start('storage-gateway');
    await cluster.start('backup-engine');
    server = (await cluster.start('gateway')).http;
    tokens.admin = cluster.token!;
    tokens.operator = await apiToken('operator', 'default');
    tokens.paymentsAuditor = await apiToken('auditor', 'payments');
  }, 300_000);
  afterAll(async () => {
    await cluster?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  let defaultJob = '';
  let operatorStream: SseReader;

  it("relays a backup's events in order to its tenant's users, and none of them to another tenant's", { timeout: 300_000 }, async () => {
    operatorStream = await SseReader.open(`${server}/v1/events`, tokens.operator);
    const auditorStream = await SseReader.open(`${server}/v1/events`, tokens.paymentsAuditor);
    try {
      // Before the operator's backup: one of tenant payments (the operator must not see it)...
      const paymentsJob = await post(tokens.admin, '/v1/backups', { source: { kind: 'filesystem', location: await source('payments-1'), tenant: 'payments' }, level: 'full' });
      await auditorStream.until('the first payments backup completed', (f) => f.event === 'backup.completed' && f.data?.subject === paymentsJob);
      defaultJob = await post(tokens.operator, '/v1/backups', { source: { kind: 'filesystem', location: await source('default-1') }, level: 'full' });
      const completed = await operatorStream.until('the operator backup completed', (f) => f.event === 'backup.completed' && f.data?.subject === defaultJob);
      // ...and one after it, so the auditor's stream has certainly passed the operator's events.
      const paymentsJob2 = await post(tokens.admin, '/v1/backups', { source: { kind: 'filesystem', location: await source('payments-2'), tenant: 'payments' }, level: 'full' });
      await auditorStream.until('the second payments backup completed', (f) => f.event === 'backup.completed' && f.data?.subject === paymentsJob2);

      expectBackupLifecycle(operatorStream.eventsOf(defaultJob));
      expect(completed.data?.data).toMatchObject({ jobId: defaultJob, level: 'full', files: 5 });
      const ids = operatorStream.frames.filter((f) => f.id).map((f) => Number(f.id));
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
      expect(operatorStream.eventsOf(paymentsJob)).toEqual([]);

      expectBackupLifecycle(auditorStream.eventsOf(paymentsJob));
      expect(auditorStream.eventsOf(defaultJob)).toEqual([]);
      expect(auditorStream.frames.filter((f) => f.data).map((f) => f.data!.subject).filter((s) => s !== paymentsJob && s !== paymentsJob2)).toEqual([]);
    } finally {
      auditorStream.close();
    }
  });

  it('?job= replays one job from its start; Last-Event-ID resumes after an event; another tenant gets 404', async () => {
    const replay = await SseReader.open(`${server}/v1/events?job=${defaultJob}`, tokens.operator);
    try {
      await replay.until('the replayed completion', (f) => f.event === 'backup.completed');
      expect(replay.frames.filter((f) => f.data).map((f) => f.data!.subject)).toEqual(Array(4).fill(defaultJob));
      expectBackupLifecycle(replay.eventsOf(defaultJob));
    } finally {
      replay.close();
    }
    const started = operatorStream.frames.find((f) => f.event === 'backup.started' && f.data?.subject === defaultJob)!;
    const resumed = await SseReader.open(`${server}/v1/events?job=${defaultJob}`, tokens.operator, { 'last-event-id': started.id! });
    try {
      await resumed.until('the resumed completion', (f) => f.event === 'backup.completed');
      expect(resumed.frames.filter((f) => f.data && f.event !== 'backup.requested').map((f) => f.event)).toEqual(['backup.progress', 'backup.completed']);
      // Nothing at or before the event it resumed after.
      expect(resumed.frames.filter((f) => f.id).every((f) => Number(f.id) > Number(started.id))).toBe(true);
    } finally {
      resumed.close();
    }
    expect((await SseReader.open(`${server}/v1/events?job=${defaultJob}`, tokens.paymentsAuditor)).status).toBe(404);
    expect((await SseReader.open(`${server}/v1/events?job=no-such-job`, tokens.admin)).status).toBe(404);
    expect((await SseReader.open(`${server}/v1/events`, tokens.operator, { 'last-event-id': 'yesterday' })).status).toBe(400);
    expect((await SseReader.open(`${server}/v1/events`, 'not-a-token')).status).toBe(401);
  });

  it('sends a heartbeat comment on a quiet stream', async () => {
    const stream = await SseReader.open(`${server}/v1/events?job=${defaultJob}`, tokens.operator);
    try {
      // One heartbeat comes with the stream's first bytes, the next after the interval.
      await stream.until('the first heartbeat', (f) => f.comment === 'heartbeat');
      const first = stream.frames.findIndex((f) => f.comment === 'heartbeat');
      await stream.until('a later heartbeat', (f) => f.comment === 'heartbeat' && stream.frames.indexOf(f) > first);
    } finally {
      stream.close();
    }
  }, 60_000);

  it('deletes its NATS consumer when a reader disconnects: none left after 20 connects and disconnects', async () => {
    operatorStream.close();
    for (let i = 0; i < 20; i++) {
      const s = await SseReader.open(`${server}/v1/events`, i % 2 ? tokens.operator : tokens.paymentsAuditor);
      await s.until('the first bytes', (f) => f.comment === 'heartbeat');
      expect((await tailConsumers()).length).toBeGreaterThan(0);
      s.close();
    }
    expect(await until('every tail consumer deleted', 20_000, async () => ((await tailConsumers()).length === 0 ? true : undefined), { intervalMs: 200 })).toBe(true);
  }, 120_000);
});
