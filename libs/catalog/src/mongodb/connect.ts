import type { MongoClient } from 'mongodb';
import type { MongoCatalogConfig } from './config.js';
import { MongoCatalog } from './mongo.catalog.js';
import { MongoJobStore } from './mongo.jobs.js';
import { MongoScheduleStore } from './mongo.schedules.js';

export interface MongoCatalogConnection {
  readonly client: MongoClient;
  readonly catalog: MongoCatalog;
  readonly jobs: MongoJobStore;
  readonly schedules: MongoScheduleStore;
  close(): Promise<void>;
}

/**
 * Connects to MongoDB (the driver reconnects by itself after a server restart) and opens the
 * catalog and job store in `dbName`.
 */
export async function connectMongoCatalog(url: string, dbName: string, config: MongoCatalogConfig = {}): Promise<MongoCatalogConnection> {
  // The driver loads on first connect: the standalone CLI never needs it.
  const { MongoClient } = await import('mongodb');
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 10_000, retryWrites: false, appName: 'tresor', ...config.clientOptions });
  await client.connect();
  const db = client.db(dbName);
  // Several services start at once against a fresh database; FerretDB may drop a connection while
  // two of them create the same collections, so opening is retried a few times.
  const catalog = await retry(() => MongoCatalog.open(db, config));
  const jobs = await retry(() => MongoJobStore.open(db, config.collectionPrefix));
  const schedules = await retry(() => MongoScheduleStore.open(db, config.collectionPrefix));
  return { client, catalog, jobs, schedules, close: () => client.close() };
}

async function retry<T>(work: () => Promise<T>, attempts = 6): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await work();
    } catch (err) {
      if (i >= attempts) throw err;
      await new Promise((r) => setTimeout(r, 250 * i + Math.random() * 250));
    }
  }
}
