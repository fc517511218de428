import { MongoClient } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { isMongoUnreachable } from './unreachable.js';

describe('isMongoUnreachable', () => {
  it('is true for the error the driver raises when nothing answers, false for other errors', async () => {
    // Port 1 on loopback: nothing listens, so server selection fails as it does in an outage.
    const client = new MongoClient('mongodb://127.0.0.1:1/', { serverSelectionTimeoutMS: 300 });
    const err = await client.connect().then(() => undefined, (e: unknown) => e);
    await client.close();
    expect((err as Error).name).toBe('MongoServerSelectionError');
    expect(isMongoUnreachable(err)).toBe(true);
    expect(isMongoUnreachable(new Error('E11000 duplicate key'))).toBe(false);
    expect(isMongoUnreachable('MongoNetworkError')).toBe(false);
  });
});
