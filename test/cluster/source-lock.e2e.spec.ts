import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoJobStore, MongoScheduleStore } from '@tresor/catalog';
import type { JobRecord } from '@tresor/contracts';
import { redisScope } from '../support/infra.js';
import type { RedisScope } from '../support/infra.js';
import { TestCluster } from './cluster.js';
import type { RunningService } from './cluster.js';
import { until } from '../support/wait.js';

describe('per-source lock: two backups of one source never overlap', () => {
  let cluster: TestCluster;
  let redis: RedisScope;
  let engines: RunningService[];
  let src: string;
  beforeAll(async () => {
    cluster = await TestCluster.create();
    redis = await redisScope();
    const env = { TRESOR_REDIS_URL: redis.url, TRESOR_REDIS_PREFIX: redis.keyPrefix };
    await cluster.start('storage-gateway');
    // Slow uploads keep each backup running long enough for the other to be submitted meanwhile.
    engines = await Promise.all([1, 2].map(() => cluster.start('backup-engine', { ...env, TRESOR_TEST_UPLOAD_DELAY_MS: '150' })));
    await cluster.start('scheduler', { ...env, TRESOR_SCHEDULER_TICK_MS: '200' });
    src = join(cluster.dir, 'keys');
    await mkdir(src, { recursive: true });
    await writeFile(join(src, 'big.bin'), randomBytes(1024 * 1024), { mode: 0o600 });
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
    await redis?.cleanup();
  });

  it('runs a second backup of a source only after the first finished', async () => {
    const schedules = await MongoScheduleStore.open(cluster.mongo.db);
    const jobs = await MongoJobStore.open(cluster.mongo.db);
    const at = new Date();
    const source = { kind: 'filesystem', location: src };
    const made = await Promise.all([1, 2].map(() => schedules.create({ kind: 'once', firstRunAt: at, backup: { source } })));
    const done = await until('both backups to finish', 120_000, async () => {
      const mine = (await jobs.list({ kind: 'backup', limit: 100 })).filter((j) => made.some((s) => j.idempotencyKey?.startsWith(`${s.id}@`)));
      return mine.length === 2 && mine.every((j) => j.state === 'completed' || j.state === 'failed') ? mine : undefined;
    });
    expect(done.map((j) => j.state)).toEqual(['completed', 'completed']);
    const [a, b] = [...done].sort((x, y) => Date.parse(x.timestamps.running!) - Date.parse(y.timestamps.running!)) as [JobRecord, JobRecord];
    // The later one started running only after the earlier one completed.
    expect(Date.parse(b.timestamps.running!)).toBeGreaterThanOrEqual(Date.parse(a.timestamps.completed!));
    expect(engines.some((e) => e.logs.some((l) => l.includes('waiting for another backup of this source')))).toBe(true);
  }, 180_000);
});
