import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { IntegrityError, IoError } from '@tresor/errors';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startFaultProxy } from '../../../../../test/support/fault-proxy.js';
import { s3Bucket } from '../../../../../test/support/infra.js';
import { describeObjectStoreConformance, readAll, sha256 } from '../../conformance/index.js';
import { LocalStore } from '../../local/local.store.js';
import { parseS3Config } from '../../s3/config.js';
import { S3Store } from '../../s3/s3.store.js';
import type { NamedStore } from './replicated.store.js';
import { ReplicatedStore } from './replicated.store.js';
import { syncLocations } from './sync.js';

async function scratch(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'tresor-replicated-'));
}

async function localLocations(dir: string, names: string[]): Promise<NamedStore[]> {
  return Promise.all(
    names.map(async (name) => ({ name, store: await LocalStore.open({ path: join(dir, name) }) })),
  );
}

/** Takes a local location down: its directory becomes a file, so every operation fails with IoError. */
async function takeDown(dir: string, name: string): Promise<void> {
  await rm(join(dir, name), { recursive: true, force: true });
  await writeFile(join(dir, name), 'down');
}

/** An S3Store on the test bucket at `endpoint` (MinIO, or a fault proxy in front of it), credentials passed by environment variable as operators do. */
async function openMinio(s3: Awaited<ReturnType<typeof s3Bucket>>, endpoint: string, extra: Record<string, unknown> = {}): Promise<S3Store> {
  const credentials = s3.config.credentials as { accessKeyId: string; secretAccessKey: string };
  process.env.TRESOR_SPEC_S3_KEY_ID = credentials.accessKeyId;
  process.env.TRESOR_SPEC_S3_SECRET = credentials.secretAccessKey;
  return S3Store.open(
    parseS3Config({
      bucket: s3.bucket,
      endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: { env: 'TRESOR_SPEC_S3_KEY_ID' }, secretAccessKey: { env: 'TRESOR_SPEC_S3_SECRET' } },
      partSizeMiB: 5,
      ...extra,
    }),
  );
}

describeObjectStoreConformance('replicated local+local (quorum of 2 = both)', async () => {
  const dir = await scratch();
  const store = new ReplicatedStore(await localLocations(dir, ['a', 'b']), { policy: 'quorum' });
  return { store, cleanup: () => rm(dir, { recursive: true, force: true }) };
}, { wrongCredentials: { notApplicable: 'a replicated store adds no credentials, and its local directories take none' } });

describeObjectStoreConformance(
  'replicated local+MinIO (all)',
  async () => {
    const dir = await scratch();
    const s3 = await s3Bucket();
    const remote = await openMinio(s3, s3.config.endpoint);
    const store = new ReplicatedStore(
      [
        { name: 'local', store: await LocalStore.open({ path: join(dir, 'local') }) },
        { name: 'minio', store: remote },
      ],
      { policy: 'all' },
    );
    return {
      store,
      cleanup: async () => {
        await store.close();
        await s3.cleanup();
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
  {
    manyKeys: 1000,
    wrongCredentials: {
      notApplicable: "a replicated store adds no credentials; each location's are its backend's, refused when the location opens (the S3 case runs in s3.store.spec.ts)",
    },
  },
);

describe('ReplicatedStore', () => {
  it('completes a write with one of three locations down under quorum, and sync repairs it later', async () => {
    const dir = await scratch();
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const degraded: string[] = [];
    const locations = await localLocations(dir, ['a', 'b', 'c']);
    const store = new ReplicatedStore(locations, {
      policy: 'quorum',
      onDegraded: (name, key) => degraded.push(`${name}:${key}`),
    });
    await takeDown(dir, 'b');
    const bytes = randomBytes(3 * 1024 * 1024);
    const result = await store.put('archives/x.tra', Readable.from([bytes]));
    expect(result.sha256).toBe(sha256(bytes));
    expect(degraded).toEqual(['b:archives/x.tra']);

    await rm(join(dir, 'b'));
    const repaired = await localLocations(dir, ['a', 'b', 'c']);
    const actions = await syncLocations(repaired);
    expect(actions).toEqual([{ key: 'archives/x.tra', to: 'b', from: 'a', outcome: 'copied' }]);
    expect((await readAll(await repaired[1]!.store.get('archives/x.tra'))).equals(bytes)).toBe(true);
    expect(await syncLocations(repaired)).toEqual([]);
  });

  it('under quorum cuts off a location that stops answering after it opened (MinIO black-holed), streamed or not', { timeout: 120_000 }, async () => {
    const dir = await scratch();
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const s3 = await s3Bucket();
    onTestFinished(() => s3.cleanup());
    const endpoint = new URL(s3.config.endpoint);
    const proxy = await startFaultProxy({ host: endpoint.hostname, port: Number(endpoint.port) });
    onTestFinished(() => proxy.close());
    // A request timeout far beyond the test: only the quorum's grace can end the wait.
    const remote = await openMinio(s3, proxy.url, { queueSize: 1, timeoutSeconds: 3600 });
    const degraded: string[] = [];
    const store = new ReplicatedStore([...(await localLocations(dir, ['a', 'b'])), { name: 'offsite', store: remote }], {
      policy: 'quorum',
      quorumGraceMs: 1000,
      onDegraded: (name, key, error) => degraded.push(`${name}:${key}:${(error as Error).message}`),
    });
    onTestFinished(() => store.close());
    proxy.mode = 'blackhole';
    proxy.resetOpen();

    const small = randomBytes(1000);
    expect((await store.put('manifests/x.json', small)).sha256).toBe(sha256(small));
    // 12 MiB in 5 MiB parts, one at a time: the black-holed branch stops reading, so the tee must drop it.
    const big = randomBytes(12 * 1024 * 1024);
    expect((await store.put('archives/x.tra', Readable.from([big]))).sha256).toBe(sha256(big));
    expect(degraded).toEqual([
      expect.stringMatching(/^offsite:manifests\/x\.json:storage location offsite was cut off: it did not finish within 1 s after the other locations had the object/),
      expect.stringMatching(/^offsite:archives\/x\.tra:storage location offsite was cut off: it (took no data for 1 s|did not finish within 1 s)/),
    ]);
    expect(proxy.stats.blackholed).toBeGreaterThan(0);
    expect((await readAll(await store.get('archives/x.tra'))).equals(big)).toBe(true);
  });

  it('fails a write clearly under "all" when a location is down, and leaves nothing behind', async () => {
    const dir = await scratch();
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const locations = await localLocations(dir, ['a', 'b']);
    const store = new ReplicatedStore(locations, { policy: 'all' });
    await takeDown(dir, 'b');
    const failure = store.put('archives/x.tra', randomBytes(1000));
    await expect(failure).rejects.toBeInstanceOf(IoError);
    await expect(failure).rejects.toThrow(
      /cannot store object archives\/x\.tra under write policy all in 1 location\(s\): b: /,
    );
    expect(await locations[0]!.store.head('archives/x.tra')).toBeUndefined();
  });

  it('reads from the next location when the first one fails or holds a corrupt copy', async () => {
    const dir = await scratch();
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const locations = await localLocations(dir, ['a', 'b']);
    const store = new ReplicatedStore(locations, { policy: 'all' });
    const bytes = randomBytes(5000);
    await store.put('m.json', bytes);
    // Corrupt a's copy behind the store's back.
    await writeFile(join(dir, 'a', 'm.json'), randomBytes(5000));
    expect((await readAll(await store.getVerified('m.json', sha256(bytes)))).equals(bytes)).toBe(true);
    await takeDown(dir, 'a');
    expect((await readAll(await store.get('m.json'))).equals(bytes)).toBe(true);
    await expect(store.getVerified('m.json', sha256(Buffer.from('other')))).rejects.toThrow(IoError);
    await expect(
      // Bytes that cannot be the ones expected (one random byte was 'x' once in 256 runs).
      locations[1]!.store.put('z', Buffer.from('y'), { expectedSha256: sha256(Buffer.from('x')) }),
    ).rejects.toThrow(IntegrityError);
  });

  it('sync verifies what it copies and reports what it could not copy', async () => {
    const dir = await scratch();
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const locations = await localLocations(dir, ['a', 'b', 'c']);
    await locations[0]!.store.put('only-in-a', randomBytes(10));
    await locations[2]!.store.put('only-in-c', randomBytes(10));
    await takeDown(dir, 'b');
    const actions = await syncLocations(locations.filter((l) => l.name !== 'b'));
    expect(actions.map((a) => `${a.key}->${a.to}:${a.outcome}`)).toEqual([
      'only-in-a->c:copied',
      'only-in-c->a:copied',
    ]);
  });
});
