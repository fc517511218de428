import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TresorClient } from '@tresor/client';
import type { JobRecord, ScheduleRecord } from '@tresor/contracts';
import { TestCluster } from '../cluster/cluster.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import type { FaultProxy } from '../support/fault-proxy.js';
import { ldapBindEnv, ldapFixture } from '../support/infra.js';
import { startOwnRedis } from '../support/own-redis.js';
import type { OwnRedis } from '../support/own-redis.js';
import { until } from '../support/wait.js';
import { checkAfterFault, randomTree, repairTotals, Supervisor } from './cluster-faults.js';
import type { Accepted } from './cluster-faults.js';

/**
 * Redis (leader lease, per-source locks, session revocation, login lockout) flushed, and killed and
 * restarted empty, while scheduled backups run; the LDAP directory refusing or black-holing
 * connections. Redis is a private redis-server (not the shared one); LDAP is reached through a
 * fault proxy in front of the test slapd. After each fault the cluster repair (run by the monitoring
 * service) removes whatever orphans the engine's own cleanup left, and then fsck finds nothing.
 */
describe('Redis and LDAP faults while jobs run', () => {
  let redis: OwnRedis;
  let ldap: FaultProxy;
  let cluster: TestCluster;
  let sup: Supervisor;
  let client: TresorClient;
  let gateway: string;
  let source: string;
  let schedule: ScheduleRecord;
  const fx = ldapFixture();
  const checked = new Set<string>();

  beforeAll(async () => {
    redis = await startOwnRedis();
    const u = new URL(fx.url);
    ldap = await startFaultProxy({ host: u.hostname, port: Number(u.port || 389) });
    cluster = await TestCluster.create();
    sup = new Supervisor(cluster);
    const r = { TRESOR_REDIS_URL: redis.url, TRESOR_JOB_ACK_WAIT_MS: '5000' };
    await sup.start('storage-gateway', { TRESOR_JOB_ACK_WAIT_MS: '5000', TRESOR_UPLOAD_IDLE_MS: '2000' });
    // Two engines and two schedulers: the source lock and the leader lease have someone to keep out.
    for (const instance of ['engine-a', 'engine-b']) await sup.start('backup-engine', { ...r, TRESOR_INSTANCE: instance, TRESOR_TEST_UPLOAD_DELAY_MS: '40', TRESOR_SOURCE_LOCK_TTL_MS: '3000' });
    for (const instance of ['scheduler-a', 'scheduler-b']) await sup.start('scheduler', { ...r, TRESOR_INSTANCE: instance, TRESOR_SCHEDULER_TICK_MS: '200', TRESOR_SCHEDULER_LEASE_TTL_MS: '3000' });
    await sup.start('recovery', { TRESOR_JOB_ACK_WAIT_MS: '5000' });
    // Runs the cluster's fsck and repair (POST /v1/fsck); its leader lease is in the same Redis, so it lives through the faults too.
    await sup.start('monitoring', r);
    gateway = (
      await sup.start('gateway', {
        ...r,
        ...ldapBindEnv(`ldap://127.0.0.1:${ldap.port}`),
        TRESOR_LDAP_TIMEOUT_MS: '2000',
        TRESOR_AUTH_GROUP_MAP: JSON.stringify({ [fx.groups.operator]: 'operator' }),
        TRESOR_AUTH_LOCKOUT_MAX_FAILURES: '3',
        TRESOR_AUTH_LOCKOUT_MINUTES: '1',
      })
    ).http;
    client = new TresorClient({ url: gateway });
    source = await randomTree(join(cluster.dir, 'keys'), 48, 64 * 1024);
    // A backup every 3 s: runs queue up behind each other on the source lock.
    schedule = await client.schedules.create({ kind: 'interval', everyMs: 3000, backup: { source: { kind: 'filesystem', location: source } } });
  }, 300_000);
  afterAll(async () => {
    console.log(`Redis and LDAP faults: the cluster repair found ${repairTotals.found} orphan(s) in all, removed ${repairTotals.removed}`);
    await cluster?.stop();
    await ldap?.close();
    await redis?.stop();
  });

  const call = async (path: string, token: string | undefined, init: RequestInit = {}) => {
    const r = await fetch(`${gateway}${path}`, { ...init, headers: { ...(init.body ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) } });
    return { status: r.status, body: (await r.json().catch(() => null)) as { error?: { code: string; message: string }; accessToken?: string; refreshToken?: string } | null };
  };
  const login = (username: string, password: string) => call('/v1/auth/login', undefined, { method: 'POST', body: JSON.stringify({ username, password }) });
  const operator = fx.users.operator;

  /** The schedule's jobs (every run T has the idempotency key `<schedule>@<T>`). */
  const scheduled = async (): Promise<JobRecord[]> => (await client.jobs.list()).filter((j) => j.idempotencyKey?.startsWith(`${schedule.id}@`));
  const completedRuns = async () => (await scheduled()).filter((j) => j.state === 'completed').length;
  /** Waits for `n` more scheduled backups to complete than `before`. */
  const moreRuns = async (before: number, n: number) =>
    until(`${n} more scheduled backups`, 240_000, async () => ((await completedRuns()) >= before + n ? true : undefined), { tolerateErrors: true, intervalMs: 250 });

  /**
   * One job per scheduled run, and no two completed backups of the source that ran at once. (A
   * backup whose lock vanished with Redis may overlap the next one, but then fails at its commit
   * point with "lost the lock", so it never becomes a second backup.)
   */
  const expectNoDoubleBackup = async (fault: string) => {
    const jobs = await scheduled();
    expect(new Set(jobs.map((j) => j.idempotencyKey)).size).toBe(jobs.length);
    const end = (j: JobRecord) => Date.parse((j.timestamps.completed ?? j.timestamps.failed)!);
    const ran = jobs.filter((j) => j.timestamps.running && (j.timestamps.completed ?? j.timestamps.failed)).sort((a, b) => Date.parse(a.timestamps.running!) - Date.parse(b.timestamps.running!));
    const overlaps = ran.slice(1).filter((j, i) => Date.parse(j.timestamps.running!) < end(ran[i]!));
    if (overlaps.length) console.log(`${fault}: runs that overlapped the previous one: ${overlaps.map((j) => `${j.state} ${JSON.stringify(j.error)}`).join('; ')}; failed runs: ${jobs.filter((j) => j.state === 'failed').map((j) => JSON.stringify(j.error)).join('; ')}`);
    const done = ran.filter((j) => j.state === 'completed');
    for (let i = 1; i < done.length; i++) expect(Date.parse(done[i]!.timestamps.running!), `${done[i]!.id} started before ${done[i - 1]!.id} ended`).toBeGreaterThanOrEqual(end(done[i - 1]!));
    return jobs;
  };
  const checks = async (fault: string) => {
    const jobs = await expectNoDoubleBackup(fault);
    // Let the backups in flight end so the catalog can be compared with finished jobs only.
    await client.schedules.pause(schedule.id);
    const settled = await until('scheduled backups to settle', 240_000, async () => {
      const all = await scheduled();
      return all.every((j) => j.state === 'completed' || j.state === 'failed') ? all : undefined;
    }, { tolerateErrors: true });
    const accepted: Accepted[] = settled.map((job) => ({ kind: 'backup', job, source }));
    console.log(await checkAfterFault(cluster, client, gateway, accepted, fault, checked));
    console.log(`${fault}: ${jobs.length} scheduled runs so far, each one job`);
    sup.expectAllRunning();
    await client.schedules.resume(schedule.id);
  };
  const uploading = () =>
    until('a scheduled backup to be uploading', 120_000, async () => ((await scheduled()).some((j) => j.state === 'uploading') ? true : undefined), { tolerateErrors: true, intervalMs: 50 });

  it('Redis flushed while a scheduled backup uploads', { timeout: 900_000 }, async () => {
    const session = await login(operator.uid, operator.password);
    expect(session.status).toBe(200);
    const loggedOut = (await login(operator.uid, operator.password)).body!.accessToken!;
    expect((await call('/v1/auth/logout', loggedOut, { method: 'POST' })).status).toBe(204);
    expect((await call('/v1/backups', loggedOut)).status).toBe(401);

    await uploading();
    const before = await completedRuns();
    const flusher = new Redis(redis.url);
    await flusher.flushall();
    flusher.disconnect();
    await moreRuns(before, 3);

    expect((await call('/v1/backups', cluster.token)).status).toBe(200);
    expect((await call('/v1/auth/me', session.body!.accessToken)).status).toBe(200);
    // The revocation list is reloaded from MongoDB: a session logged out before the flush stays out.
    expect((await call('/v1/backups', loggedOut)).status).toBe(401);
    // The lockout counts again from zero and still locks (another user: the operator logs in later).
    const tries = [];
    for (let i = 0; i < 4; i++) tries.push((await login(fx.users.auditor.uid, 'wrong-password')).status);
    expect(tries).toEqual([401, 401, 401, 429]);
    await checks('Redis FLUSHALL mid-upload');
  });

  it('Redis killed and restarted empty while a scheduled backup uploads', { timeout: 900_000 }, async () => {
    await uploading();
    const before = await completedRuns();
    await redis.kill();
    // Without the revocation list the gateway cannot tell a logged-out session: it refuses, naming Redis.
    const down = await call('/v1/backups', cluster.token);
    console.log(`Redis down: GET /v1/backups -> ${down.status} ${JSON.stringify(down.body)}`);
    expect(down.status).toBe(503);
    expect(down.body?.error?.code).toBe('UNAVAILABLE');
    expect(down.body?.error?.message).toMatch(/^cannot check the session revocation list in Redis: [^\n]+$/);
    await new Promise((r) => setTimeout(r, 3000));
    await redis.restart();
    await until('the gateway to answer again', 60_000, async () => ((await call('/v1/backups', cluster.token)).status === 200 ? true : undefined));
    await moreRuns(before, 3);
    await checks('Redis kill -9 and restart (empty) mid-upload');
  });

  it('LDAP down: logins fail naming the directory, sessions and jobs go on', { timeout: 900_000 }, async () => {
    const session = (await login(fx.users.operator.uid, fx.users.operator.password)).body!;
    expect(session.accessToken).toBeDefined();
    const before = await completedRuns();
    for (const mode of ['reset', 'blackhole'] as const) {
      ldap.mode = mode;
      ldap.resetOpen();
      const refused = await login(fx.users.viewer.uid, fx.users.viewer.password);
      console.log(`LDAP ${mode}: login -> ${refused.status} ${JSON.stringify(refused.body)}`);
      // 503 UNAVAILABLE, the gateway's answer whenever a dependency cannot be asked (audit, Redis): an outage, not a wrong password.
      expect(refused.status).toBe(503);
      expect(refused.body?.error?.code).toBe('UNAVAILABLE');
      expect(refused.body?.error?.message).toMatch(new RegExp(`^cannot search the directory at ldap://127\\.0\\.0\\.1:${ldap.port}: [^\\n]+$`));
      // Sessions already issued keep working, and so does their refresh.
      expect((await call('/v1/auth/me', session.accessToken)).status).toBe(200);
      expect((await call('/v1/jobs', session.accessToken)).status).toBe(200);
    }
    const refreshed = await call('/v1/auth/refresh', undefined, { method: 'POST', body: JSON.stringify({ refreshToken: session.refreshToken }) });
    expect(refreshed.status).toBe(200);
    await moreRuns(before, 2);
    ldap.mode = 'pass';
    expect((await login(operator.uid, operator.password)).status).toBe(200);
    await checks('LDAP reset / black hole');
  });
});
