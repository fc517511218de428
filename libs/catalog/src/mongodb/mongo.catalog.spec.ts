import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MongoScope } from '../../../../test/support/infra.js';
import { mongoDatabase } from '../../../../test/support/infra.js';
import { describeCatalogConformance, fileEntry, sampleBackup } from '../conformance/catalog.conformance.js';
import { MongoCatalog } from './mongo.catalog.js';
import { MongoJobStore } from './mongo.jobs.js';

describeCatalogConformance('mongodb', async () => {
  const mongo = await mongoDatabase();
  const catalog = await MongoCatalog.open(mongo.db, { writeConcern: { w: 1 }, readConcern: 'local' });
  return { catalog, cleanup: () => mongo.cleanup() };
}, { manyEntries: 5000 });

describe('MongoCatalog', () => {
  let mongo: MongoScope;
  beforeEach(async () => {
    mongo = await mongoDatabase();
  });
  afterEach(async () => {
    await mongo.cleanup();
  });

  it('hides a pending add of a dead writer and sweeps it once stale', async () => {
    const catalog = await MongoCatalog.open(mongo.db, { stalePendingMs: 60_000 });
    const source = await catalog.ensureSource('filesystem', '/k');
    // A writer that died after its entries, before the flip.
    await mongo.db.collection('backups').insertOne({
      _id: 'dead' as never, state: 'pending', token: 'tok', pendingSince: new Date(Date.now() - 120_000), createdMs: 0,
      record: sampleBackup({ id: 'dead', sourceId: source.id }),
    });
    await mongo.db.collection('entries').insertOne({ _id: 'dead/tok/66' as never, b: 'dead', t: 'tok', k: '66', e: { path: 'f' }, s: 'a'.repeat(64), db: 'dead' });
    expect(await catalog.getBackup('dead')).toBeUndefined();
    expect(await catalog.listBackups()).toEqual([]);
    expect(await catalog.findData('a'.repeat(64), ['dead'])).toBeUndefined();
    expect(await catalog.sweepPending()).toBe(1);
    expect(await mongo.db.collection('entries').countDocuments({ b: 'dead' })).toBe(0);
    await catalog.addBackup(sampleBackup({ id: 'dead', sourceId: source.id }), [fileEntry('f', 'dead')]);
    expect((await catalog.getBackup('dead'))?.id).toBe('dead');
  });

  it('creates its indexes at open', async () => {
    await MongoCatalog.open(mongo.db);
    const names = (await mongo.db.collection('entries').indexes()).map((i) => i.name);
    expect(names).toEqual(expect.arrayContaining(['by_backup_path', 'by_sha256']));
  });
});

describe('MongoJobStore', () => {
  let mongo: MongoScope;
  beforeEach(async () => {
    mongo = await mongoDatabase();
  });
  afterEach(async () => {
    await mongo.cleanup();
  });

  it('walks the lifecycle with versions, and of two racing transitions exactly one wins', async () => {
    const jobs = await MongoJobStore.open(mongo.db);
    const { job } = await jobs.create({ kind: 'backup', params: { path: '/k' } });
    expect(job).toMatchObject({ state: 'requested', version: 0, attempts: 0 });
    const queued = (await jobs.transition(job, 'queued'))!;
    const [a, b] = await Promise.all([jobs.transition(queued, 'running'), jobs.transition(queued, 'running')]);
    expect([a, b].filter(Boolean)).toHaveLength(1);
    const running = (a ?? b)!;
    const uploading = (await jobs.transition(running, 'uploading'))!;
    const verifying = (await jobs.transition(uploading, 'verifying'))!;
    const done = (await jobs.transition(verifying, 'completed', { result: { backupId: 'b1' } }))!;
    expect(done).toMatchObject({ state: 'completed', version: 5, result: { backupId: 'b1' } });
    expect(Object.keys(done.timestamps).sort()).toEqual(['completed', 'queued', 'requested', 'running', 'uploading', 'verifying']);
    await expect(jobs.transition(done, 'running')).rejects.toThrow(/cannot go from completed to running/);
    expect(await jobs.claim(job.id, 'w')).toBeUndefined();
  });

  it('claims again after a worker died, counting attempts', async () => {
    const jobs = await MongoJobStore.open(mongo.db);
    const { job } = await jobs.create({ kind: 'backup', params: {} });
    const first = (await jobs.claim(job.id, 'w1'))!;
    await jobs.transition(first, 'uploading');
    const second = (await jobs.claim(job.id, 'w2'))!;
    expect(second).toMatchObject({ state: 'running', attempts: 2, worker: 'w2' });
    // The first worker's fence now fails.
    expect(await jobs.transition({ ...first, state: 'uploading', version: first.version + 1 }, 'verifying')).toBeUndefined();
  });

  it('returns the first job for a repeated idempotency key and refuses it for another request', async () => {
    const jobs = await MongoJobStore.open(mongo.db);
    const a = await jobs.create({ kind: 'backup', params: { p: 1 }, idempotencyKey: 'k1' });
    const again = await jobs.create({ kind: 'backup', params: { p: 1 }, idempotencyKey: 'k1' });
    expect(again).toEqual({ job: a.job, created: false });
    await expect(jobs.create({ kind: 'backup', params: { p: 2 }, idempotencyKey: 'k1' })).rejects.toThrow(/different request/);
    await jobs.create({ kind: 'backup', params: {} });
    await jobs.create({ kind: 'backup', params: {} });
  });
});
