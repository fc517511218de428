import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, ForbiddenError, NotFoundError, UsageError } from '@tresor/errors';
import { mongoDatabase } from '../../../../test/support/infra.js';
import type { MongoScope } from '../../../../test/support/infra.js';
import { dualControlFromEnv, parseDualControlConfig, policyFor } from './policy.js';
import { MongoApprovalStore } from './store.js';

const restore = { backupId: 'b1', target: '/srv/r', include: [], exclude: [], dryRun: false, overwrite: false };
const rita = { subject: 'ldap:rita', name: 'rita' };
const custodian = (n: number) => ({ subject: `ldap:c${n}`, name: `c${n}` });

describe('dual-control policy', () => {
  it('defaults to sensitive sources, 2 approvals and a 24 h window; tenants and sources override', () => {
    const c = parseDualControlConfig({ tenants: { payments: { approvals: 3 } }, sources: { '/srv/certs': { sensitive: false } } });
    expect(policyFor(c, 'default', '/etc/keys')).toEqual({ sensitive: true, approvals: 2, expirySeconds: 86400 });
    expect(policyFor(c, 'payments', '/etc/keys')).toEqual({ sensitive: true, approvals: 3, expirySeconds: 86400 });
    expect(policyFor(c, 'default', '/srv/certs').sensitive).toBe(false);
    expect(dualControlFromEnv({}).approvals).toBe(2);
  });

  it('refuses bad values, naming the field', () => {
    expect(() => parseDualControlConfig({ approvals: 0 })).toThrow(/approvals/);
    expect(() => parseDualControlConfig({ tenants: { payments: { expirySeconds: -1 } } })).toThrow(/tenants\.payments\.expirySeconds/);
    expect(() => parseDualControlConfig({ sensitiveByDefault: 'no' })).toThrow(UsageError);
    expect(() => dualControlFromEnv({ TRESOR_DUAL_CONTROL: '{nope' })).toThrow(/TRESOR_DUAL_CONTROL: not JSON/);
  });
});

describe('MongoApprovalStore (MongoDB wire: FerretDB in tests)', () => {
  let mongo: MongoScope;
  let now = new Date('2026-01-01T00:00:00Z');
  let store: MongoApprovalStore;
  beforeAll(async () => {
    mongo = await mongoDatabase();
    store = new MongoApprovalStore(mongo.db, () => now);
  });
  afterAll(() => mongo?.cleanup());
  const create = (required = 2, expirySeconds = 60, idempotencyKey: string | null = null) =>
    store.create({ tenant: 'default', source: '/etc/keys', restore, requester: rita, requiredApprovals: required, expirySeconds, idempotencyKey }).then((r) => r.request);

  it('completes after M distinct approvals, never the requester, never one approver twice', async () => {
    const r = await create();
    await expect(store.approve(r._id, rita)).rejects.toThrow(ForbiddenError);
    expect(await store.approve(r._id, custodian(1))).toMatchObject({ completed: false, request: { state: 'pending', approvals: [expect.objectContaining({ name: 'c1' })] } });
    await expect(store.approve(r._id, custodian(1))).rejects.toThrow(/already approved/);
    expect(await store.approve(r._id, custodian(2))).toMatchObject({ completed: true, request: { state: 'approved' } });
    await expect(store.approve(r._id, custodian(3))).rejects.toThrow(/is approved, not pending/);
    expect(await store.approvedNotExecuted(0)).toEqual([expect.objectContaining({ _id: r._id })]);
    expect(await store.markExecuted(r._id, 'job-1')).toMatchObject({ state: 'executed', jobId: 'job-1' });
    expect(await store.markExecuted(r._id, 'job-2')).toBeUndefined();
    await expect(store.approve('apr-none', custodian(1))).rejects.toThrow(NotFoundError);
  });

  it('lets exactly one of many concurrent approvals complete the request', async () => {
    for (let round = 0; round < 3; round++) {
      const r = await create();
      const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => store.approve(r._id, custodian(i))));
      const completed = results.filter((x) => x.status === 'fulfilled' && x.value.completed);
      expect(completed.length).toBe(1);
      for (const x of results) if (x.status === 'rejected') expect(x.reason).toBeInstanceOf(ConflictError);
      expect((await store.get(r._id))?.state).toBe('approved');
    }
  });

  it('expires pending requests after their window (once), and then refuses approvals', async () => {
    const r = await create(2, 10);
    await store.approve(r._id, custodian(1));
    now = new Date(now.getTime() + 11_000);
    await expect(store.approve(r._id, custodian(2))).rejects.toThrow(/expired/);
    const expired = await store.expireDue();
    expect(expired.map((e) => e._id)).toContain(r._id);
    expect((await store.expireDue()).map((e) => e._id)).not.toContain(r._id);
    expect((await store.get(r._id))?.state).toBe('expired');
    expect((await store.unannouncedExpiries()).map((e) => e._id)).toContain(r._id);
    await store.markAnnounced(r._id);
    expect((await store.unannouncedExpiries()).map((e) => e._id)).not.toContain(r._id);
  });

  it('a rejection ends the request; the same idempotency key gives the same request', async () => {
    const r = await create(2, 60, 'k1');
    expect((await create(2, 60, 'k1'))._id).toBe(r._id);
    expect(await store.reject(r._id, custodian(1), 'no ticket')).toMatchObject({ state: 'rejected', rejection: { name: 'c1', reason: 'no ticket' } });
    await expect(store.approve(r._id, custodian(2))).rejects.toThrow(/rejected/);
    await expect(store.reject(r._id, custodian(2), 'again')).rejects.toThrow(ConflictError);
    expect((await store.list({ states: ['rejected'], tenants: ['default'] })).map((x) => x._id)).toContain(r._id);
    expect(await store.list({ tenants: ['other'] })).toEqual([]);
  });
});
