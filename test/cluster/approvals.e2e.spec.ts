import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoAuditStore } from '@tresor/audit-log';
import { TresorClient } from '@tresor/client';
import type { ApprovalRequestDto, JobRecord } from '@tresor/contracts';
import { ldapBindEnv, ldapFixture } from '../support/infra.js';
import { TestCluster } from './cluster.js';
import { hashTree } from '../support/tree.js';
import { until } from '../support/wait.js';

const fx = ldapFixture();
const [carla, colin, cora] = fx.users.custodians;

describe('dual control: restores of sensitive sources wait for M=2 custodians (LDAP, MongoDB, NATS)', () => {
  let cluster: TestCluster;
  let server: string;
  let admin: TresorClient;
  const tokens: Record<string, string> = {};
  const sources: Record<'keys' | 'short' | 'plain', { dir: string; backupId: string }> = {} as never;

  const call = async (method: string, path: string, token: string, body?: unknown) => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (method !== 'GET') headers['content-type'] = 'application/json';
    const r = await fetch(`${server}${path}`, { method, headers, ...(method !== 'GET' ? { body: JSON.stringify(body ?? {}) } : {}) });
    const text = await r.text();
    return { status: r.status, body: (text ? JSON.parse(text) : undefined) as Record<string, unknown> & { approval?: ApprovalRequestDto; job?: JobRecord | null } };
  };
  const login = async (uid: string, password: string): Promise<string> => {
    const r = await fetch(`${server}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: uid, password }) });
    if (r.status !== 200) throw new Error(`login ${uid}: ${r.status} ${await r.text()}`);
    return ((await r.json()) as { accessToken: string }).accessToken;
  };
  const restoreJobs = async (): Promise<JobRecord[]> => (await admin.jobs.list()).filter((j) => j.kind === 'restore');
  const request = async (uid: string, source: 'keys' | 'short', target: string): Promise<ApprovalRequestDto> => {
    const r = await call('POST', '/v1/restores', tokens[uid]!, { backup: sources[source].backupId, target });
    expect(r.status).toBe(202);
    expect(r.body.job).toBeUndefined();
    return r.body.approval!;
  };
  const approve = (uid: string, id: string, password = fx.users.viewer.password) => call('POST', `/v1/approvals/${id}/approve`, tokens[uid]!, { password });
  const state = async (id: string) => (await call('GET', `/v1/approvals/${id}`, tokens[colin.uid]!)).body.approval!;

  beforeAll(async () => {
    cluster = await TestCluster.create();
    await cluster.start('storage-gateway');
    await Promise.all([cluster.start('backup-engine'), cluster.start('recovery'), cluster.start('audit')]);
    const both = { tenants: ['default', 'short'] };
    server = (
      await cluster.start('gateway', {
        ...ldapBindEnv(),
        TRESOR_AUTH_GROUP_MAP: JSON.stringify({
          [fx.groups.admin]: { roles: ['admin'], tenants: ['*'] },
          [fx.groups.operator]: { roles: ['operator'], ...both },
          [fx.groups.auditor]: { roles: ['auditor'], ...both },
          // Custodians may also request restores here, to show they cannot approve their own.
          [fx.groups.custodian]: { roles: ['custodian', 'operator'], ...both },
          [fx.groups.viewer]: { roles: ['viewer'], ...both },
        }),
        // Sensitive by default, 2 approvals; tenant `short` has an 8-second window for the expiry test.
        // Source `plain` is marked not sensitive.
        TRESOR_DUAL_CONTROL: JSON.stringify({ approvals: 2, expirySeconds: 3600, tenants: { short: { expirySeconds: 8 } }, sources: { [join(cluster.dir, 'src-plain')]: { sensitive: false } } }),
      })
    ).http;
    admin = new TresorClient({ url: server, token: cluster.token!, pollMs: 250 });
    for (const u of [fx.users.admin, fx.users.operator, fx.users.auditor, fx.users.viewer, fx.users.requester, carla, colin, cora]) tokens[u.uid] = await login(u.uid, u.password);

    for (const [name, tenant] of [['keys', 'default'], ['short', 'short'], ['plain', 'default']] as const) {
      const dir = join(cluster.dir, `src-${name}`);
      for (let i = 0; i < 12; i++) {
        await mkdir(join(dir, `team${i % 3}`), { recursive: true });
        await writeFile(join(dir, `team${i % 3}`, `key-${i}.pem`), createHash('sha256').update(`${name}${i}`).digest('hex').repeat(30), { mode: 0o600 });
      }
      const job = await admin.backups.create({ source: { kind: 'filesystem', location: dir, tenant } });
      const done = await admin.jobs.wait(job.id);
      sources[name] = { dir, backupId: (done.result as { backupId: string }).backupId };
    }
  }, 240_000);
  afterAll(() => cluster?.stop());

  it('does not run with 0 or 1 approvals, nor the requester\'s own, nor one whose re-authentication fails; runs once after 2', async () => {
    const target = join(cluster.dir, 'restored-1');
    const r = await request(carla.uid, 'keys', target);
    expect(r).toMatchObject({ state: 'pending', requiredApprovals: 2, approvals: [], tenant: 'default', source: sources.keys.dir, backupId: sources.keys.backupId, requester: { name: carla.uid }, jobId: null });

    // The requester is a custodian too, and still cannot approve their own request.
    const own = await approve(carla.uid, r.id);
    expect(own.status).toBe(403);
    expect(JSON.stringify(own.body)).toMatch(/cannot approve/);
    // A wrong password is refused (403: the session is fine, the confirmation is not) and counts for nothing.
    const badPw = await approve(colin.uid, r.id, 'not-the-password');
    expect(badPw.status).toBe(403);
    expect(JSON.stringify(badPw.body)).toMatch(/re-authentication failed/);
    expect((await state(r.id)).approvals).toEqual([]);

    const first = await approve(colin.uid, r.id);
    expect(first.status).toBe(200);
    expect(first.body.job).toBeNull();
    expect(first.body.approval).toMatchObject({ state: 'pending', approvals: [{ name: colin.uid }] });
    // The same custodian twice is still one approval.
    expect((await approve(colin.uid, r.id)).status).toBe(409);
    await new Promise((res) => setTimeout(res, 1500));
    expect(await restoreJobs()).toEqual([]);

    // The second custodian approves through the CLI (password from an env var, for automation).
    const cli = await cluster.cli(['--server', server, 'approvals', 'approve', r.id, '--password-env', 'PW', '--json'], { TRESOR_TOKEN: tokens[cora.uid]!, PW: cora.password });
    expect(cli.stderr).toBe('');
    expect(cli.code).toBe(0);
    const { approval, job } = JSON.parse(cli.stdout) as { approval: ApprovalRequestDto; job: JobRecord };
    expect(approval).toMatchObject({ state: 'executed', jobId: job.id });
    expect(approval.approvals.map((a) => a.name)).toEqual([colin.uid, cora.uid]);
    expect(job.idempotencyKey).toBe(`approval:${r.id}`);

    const done = await admin.jobs.wait(job.id);
    expect(done.state).toBe('completed');
    expect(await hashTree(target)).toEqual(await hashTree(sources.keys.dir));
    expect((await restoreJobs()).map((j) => j.id)).toEqual([job.id]);
    // Executed is final: a third approval changes nothing.
    expect((await approve(carla.uid, r.id)).status).toBe(409);
    expect((await restoreJobs()).length).toBe(1);
  }, 180_000);

  it('marks sources sensitive by default; a source configured not sensitive restores at once', async () => {
    const listed = (await call('GET', '/v1/sources', tokens[fx.users.operator.uid]!)).body.sources as { location: string; sensitive: boolean }[];
    expect(Object.fromEntries(listed.map((x) => [x.location, x.sensitive]))).toEqual({ [sources.keys.dir]: true, [sources.short.dir]: true, [sources.plain.dir]: false });
    const target = join(cluster.dir, 'restored-plain');
    const r = await call('POST', '/v1/restores', tokens[fx.users.operator.uid]!, { backup: sources.plain.backupId, target });
    expect(r.status).toBe(202);
    expect(r.body.approval).toBeUndefined();
    expect((await admin.jobs.wait(r.body.job!.id)).state).toBe('completed');
    expect(await hashTree(target)).toEqual(await hashTree(sources.plain.dir));
  }, 120_000);

  it('non-custodians get 403 on approve and reject; custodians list and show requests', async () => {
    const r = await request(fx.users.requester.uid, 'keys', join(cluster.dir, 'restored-403'));
    for (const uid of [fx.users.admin.uid, fx.users.operator.uid, fx.users.auditor.uid, fx.users.viewer.uid, fx.users.requester.uid]) {
      expect((await approve(uid, r.id, fx.users.admin.password)).status, uid).toBe(403);
      expect((await call('POST', `/v1/approvals/${r.id}/reject`, tokens[uid]!, { reason: 'x' })).status, uid).toBe(403);
    }
    // The harness's break-glass admin cannot approve either.
    expect((await call('POST', `/v1/approvals/${r.id}/approve`, cluster.token!, { password: 'x' })).status).toBe(403);
    const listed = await cluster.cli(['--server', server, 'approvals', 'list', '--state', 'pending'], { TRESOR_TOKEN: tokens[carla.uid]! });
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(r.id);
    expect(listed.stdout).toContain('0/2');
    expect((await call('GET', '/v1/approvals?state=pending', tokens[fx.users.auditor.uid]!)).body.approvals).toEqual(expect.arrayContaining([expect.objectContaining({ id: r.id })]));
    // The requester's CLI restore says what happens instead of restoring.
    const cliRestore = await cluster.cli(['--server', server, 'restore', sources.keys.backupId, '--target', join(cluster.dir, 'restored-cli')], { TRESOR_TOKEN: tokens[fx.users.requester.uid]! });
    expect(cliRestore.code).toBe(0);
    expect(cliRestore.stdout).toMatch(/waits for dual control: approval request apr-\w+ needs 2 custodian approvals/);
  }, 120_000);

  it('a rejection ends the request: later approvals are refused and nothing runs', async () => {
    const before = (await restoreJobs()).length;
    const r = await request(fx.users.requester.uid, 'keys', join(cluster.dir, 'restored-rejected'));
    const rejected = await cluster.cli(['--server', server, 'approvals', 'reject', r.id, '--reason', 'no change ticket'], { TRESOR_TOKEN: tokens[carla.uid]! });
    expect(rejected.code).toBe(0);
    expect(await state(r.id)).toMatchObject({ state: 'rejected', rejection: { name: carla.uid, reason: 'no change ticket' } });
    expect((await approve(colin.uid, r.id)).status).toBe(409);
    expect((await approve(cora.uid, r.id)).status).toBe(409);
    expect((await restoreJobs()).length).toBe(before);
  }, 120_000);

  it('does not run after the window expires, even with a second approval arriving late', async () => {
    const before = (await restoreJobs()).length;
    const r = await request(fx.users.requester.uid, 'short', join(cluster.dir, 'restored-late'));
    expect(new Date(r.expiresAt).getTime() - new Date(r.createdAt).getTime()).toBe(8000);
    expect((await approve(colin.uid, r.id)).status).toBe(200);
    const expired = await until('the request to expire', 60_000, async () => {
      const s = await state(r.id);
      return s.state === 'expired' ? s : undefined;
    });
    expect(expired.approvals.map((a) => a.name)).toEqual([colin.uid]);
    const late = await approve(cora.uid, r.id);
    expect(late.status).toBe(409);
    expect(JSON.stringify(late.body)).toMatch(/expired/);
    expect((await restoreJobs()).length).toBe(before);
  }, 120_000);

  it('two custodians approving at the same moment queue the restore exactly once', async () => {
    const before = (await restoreJobs()).length;
    const target = join(cluster.dir, 'restored-race');
    const r = await request(fx.users.requester.uid, 'keys', target);
    const [a, b, c] = await Promise.all([approve(carla.uid, r.id), approve(colin.uid, r.id), approve(cora.uid, r.id)]);
    const ok = [a, b, c].filter((x) => x.status === 200);
    expect(ok.length).toBeGreaterThanOrEqual(2);
    const jobs = ok.map((x) => x.body.job).filter((j): j is JobRecord => !!j);
    expect(jobs.length).toBe(1);
    expect((await restoreJobs()).length).toBe(before + 1);
    expect((await admin.jobs.wait(jobs[0]!.id)).state).toBe('completed');
    expect(await hashTree(target)).toEqual(await hashTree(sources.keys.dir));
    expect(await state(r.id)).toMatchObject({ state: 'executed', jobId: jobs[0]!.id });
  }, 180_000);

  it('refuses requests and approvals the audit log cannot record (503: no audit service answers), and nothing changes', async () => {
    const r = await request(fx.users.requester.uid, 'keys', join(cluster.dir, 'restored-audit'));
    expect((await approve(colin.uid, r.id)).status).toBe(200);
    const audit = cluster.services.find((x) => x.name === 'audit')!;
    await new Promise<void>((res) => {
      audit.child.once('exit', () => res());
      audit.child.kill('SIGTERM');
    });
    cluster.services.splice(cluster.services.indexOf(audit), 1);
    const count = async () => ((await call('GET', '/v1/approvals', tokens[colin.uid]!)).body.approvals as unknown[]).length;
    const before = await count();
    const jobsBefore = (await restoreJobs()).length;
    expect((await call('POST', '/v1/restores', tokens[fx.users.requester.uid]!, { backup: sources.keys.backupId, target: join(cluster.dir, 'restored-x') })).status).toBe(503);
    expect((await approve(cora.uid, r.id)).status).toBe(503);
    expect(await count()).toBe(before);
    expect(await state(r.id)).toMatchObject({ state: 'pending', approvals: [expect.objectContaining({ name: colin.uid })] });
    expect((await restoreJobs()).length).toBe(jobsBefore);
    // With the audit service back, the same approval goes through.
    await cluster.start('audit');
    const ok = await approve(cora.uid, r.id);
    expect(ok.status).toBe(200);
    expect((await admin.jobs.wait(ok.body.job!.id)).state).toBe('completed');
  }, 180_000);

  it('audits every request, approval, rejection, expiry and execution in the chain, and emits their events', async () => {
    const store = await MongoAuditStore.open(cluster.mongo.db);
    const entries = await until('the approval entries', 30_000, async () => {
      const all = await store.read(1, 10_000);
      return all.some((e) => e.action === 'approval.executed') ? all : undefined;
    });
    const actions = new Set(entries.map((e) => `${e.action}:${e.outcome}`));
    for (const a of ['approvals.request:success', 'approvals.approve:success', 'approvals.approve:denied', 'approvals.approve:failure', 'approvals.reject:success', 'approvals.expire:success', 'approvals.execute:success']) expect(actions, a).toContain(a);
    // The stream events reach the chain too (the audit service records every event).
    for (const e of ['approval.requested', 'approval.granted', 'approval.rejected', 'approval.expired', 'approval.executed']) expect(entries.map((x) => x.action), e).toContain(e);
    const failedReauth = entries.find((e) => e.action === 'approvals.approve' && e.outcome === 'denied' && e.actor.user === colin.uid);
    expect(failedReauth?.details).toMatchObject({ reason: 're-authentication failed' });
    expect(entries.find((e) => e.action === 'approvals.approve' && e.outcome === 'denied' && e.actor.user === carla.uid)?.details).toMatchObject({ error: 'FORBIDDEN' });
    // Never the password.
    expect(JSON.stringify(entries)).not.toContain(fx.users.viewer.password);
  }, 60_000);
});
