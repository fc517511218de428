import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TresorClient } from '@tresor/client';
import type { JobRecord } from '@tresor/contracts';
import { startOwnFerretDb, startOwnNatsServer } from '../support/infra.js';
import type { OwnFerretDb, OwnNatsServer } from '../support/infra.js';
import { TestCluster } from './cluster.js';
import { until as poll } from '../support/wait.js';

/** Waits through a server restart: a probe that throws means "not yet". */
const until = <T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> =>
  poll(what, ms, probe, { tolerateErrors: true });

describe('services reconnect after NATS or the MongoDB-wire server restarts while idle', () => {
  let nats: OwnNatsServer | undefined;
  let mongo: OwnFerretDb | undefined;
  let cluster: TestCluster | undefined;
  let client: TresorClient;
  let src: string;

  beforeAll(async () => {
    nats = await startOwnNatsServer();
    mongo = await startOwnFerretDb();
    cluster = await TestCluster.create({ natsUrl: nats.url, mongoUrl: mongo.url });
    client = new TresorClient({ url: (await cluster.startAll()).http });
    src = join(cluster.dir, 'keys');
    await mkdir(src, { recursive: true });
    for (let i = 0; i < 5; i++) await writeFile(join(src, `key-${i}.pem`), `key ${i}\n`, { mode: 0o600 });
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
    await nats?.stop();
    await mongo?.stop();
  });

  /** Requests a backup (retrying while the gateway itself is still reconnecting) and waits for its outcome. */
  const backup = async (): Promise<JobRecord> => {
    const idempotencyKey = randomUUID();
    const job = await until('the gateway to accept a backup', 60_000, () => client.backups.create({ source: { kind: 'filesystem', location: src } }, { idempotencyKey }));
    return until('the backup to finish', 60_000, async () => {
      const j = await client.jobs.get(job.id);
      return j.state === 'completed' || j.state === 'failed' ? j : undefined;
    });
  };

  it('runs a backup after NATS restarts', async () => {
    expect((await backup()).state).toBe('completed');
    await nats!.restart();
    // Every service notices the restart and reconnects by itself.
    for (const s of cluster!.services) {
      await until(`${s.name} to reconnect to NATS`, 30_000, async () => (s.logs.some((l) => l.includes('"nats":"reconnect"')) ? true : undefined));
    }
    const next = await backup();
    expect(next.error).toBeNull();
    expect(next.state).toBe('completed');
  });

  it('runs a backup after the MongoDB-wire server restarts', async () => {
    await mongo!.restart();
    const next = await backup();
    expect(next.error).toBeNull();
    expect(next.state).toBe('completed');
    expect(await client.backups.list()).toHaveLength(3);
    for (const s of cluster!.services) expect(s.child.exitCode, `${s.name} still running`).toBeNull();
  });
});
