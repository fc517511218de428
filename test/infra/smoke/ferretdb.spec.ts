import { beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { MongoServerError } from 'mongodb';
import { mongoDatabase, type MongoScope } from '../../support/infra.js';

describe('MongoDB wire protocol (FerretDB) through the mongodb driver', () => {
  // Resources are taken in beforeEach (not beforeAll): a missing server then fails every test
  // instead of leaving them "skipped".
  let m: MongoScope;
  beforeEach(async () => {
    m = await mongoDatabase();
    onTestFinished(() => m.cleanup());
  });

  it('inserts and finds documents', async () => {
    const col = m.db.collection<{ backupId: string; level: string; sizeBytes: number }>('backups');
    await col.insertMany([
      { backupId: 'b1', level: 'full', sizeBytes: 100 },
      { backupId: 'b2', level: 'incremental', sizeBytes: 7 },
    ]);
    const found = await col.find({ level: 'full' }, { projection: { _id: 0 } }).toArray();
    expect(found).toEqual([{ backupId: 'b1', level: 'full', sizeBytes: 100 }]);
    expect(await col.countDocuments()).toBe(2);
  });

  it('enforces a unique index with duplicate-key error 11000', async () => {
    const col = m.db.collection('manifests');
    const name = await col.createIndex({ archiveId: 1 }, { unique: true });
    expect((await col.indexes()).map((i) => i.name)).toContain(name);
    await col.insertOne({ archiveId: 'a-1' });
    const err = await col.insertOne({ archiveId: 'a-1' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MongoServerError);
    expect((err as MongoServerError).code).toBe(11000);
  });

  it('reports what it is, and FerretDB v1 really lacks transactions (see docs/testing.md)', async () => {
    expect(['ferretdb', 'mongodb']).toContain(m.flavor);
    expect(m.dbName).toMatch(/^tresor_t_/);
    const session = m.client.startSession();
    try {
      const tx = session.withTransaction(async () => {
        await m.db.collection('tx').insertOne({ n: 1 }, { session });
      });
      if (m.replicaSet) await tx;
      else await expect(tx).rejects.toThrow();
    } finally {
      await session.endSession();
    }
  });
});
