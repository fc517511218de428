import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { COMMANDS, HEADERS, topology } from '@tresor/contracts';
import type { ObjectStore } from '@tresor/storage';
import { LocalStore } from '@tresor/storage';
import { natsScope, type NatsScope } from '../../../../test/support/infra.js';
import { Bus } from '../bus.js';
import { createLogger } from '../logger.js';
import { NoReplyError } from '../bus.js';
import { serveObjectStore } from './object-transfer.server.js';
import { RemoteObjectStore } from './remote-object-store.js';

/** `local` with its `put` replaced by `put(original, ...args)`: the fault each test injects. */
function withPut(local: ObjectStore, put: (original: ObjectStore['put'], ...args: Parameters<ObjectStore['put']>) => ReturnType<ObjectStore['put']>): ObjectStore {
  return new Proxy(local, {
    get: (target, prop, receiver) => (prop === 'put' ? (...args: Parameters<ObjectStore['put']>) => put(target.put.bind(target), ...args) : Reflect.get(target, prop, receiver)),
  });
}

/** A storage-gateway bus on the test scope serving `store`. */
async function serve(scope: NatsScope, store: ObjectStore): Promise<{ bus: Bus; stop: () => void }> {
  const nc = await scope.connect();
  const bus = new Bus({ nc, topology: topology({ subjectRoot: scope.subjectPrefix, namePrefix: scope.namePrefix }), service: 'storage-gateway', instance: 'sg@test', logger: createLogger('storage-gateway', 'sg@test', 'silent') });
  return { bus, stop: serveObjectStore(bus, store) };
}

describe('serveObjectStore', () => {
  let scope: NatsScope | undefined;
  let dir: string | undefined;
  let served: { bus: Bus; stop: () => void } | undefined;
  afterEach(async () => {
    served?.stop();
    await served?.bus.close();
    served = undefined;
    await scope?.cleanup();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** A local store in a new directory, served on a new NATS scope, its put replaced by `fault` if given. */
  const serveLocal = async (fault?: Parameters<typeof withPut>[1]): Promise<{ local: LocalStore; bus: Bus; dir: string }> => {
    scope = await natsScope();
    dir = await mkdtemp(join(tmpdir(), 'tresor-transfer-'));
    const local = await LocalStore.open({ path: dir });
    served = await serve(scope, fault ? withPut(local, fault) : local);
    return { local, bus: served.bus, dir };
  };

  it('survives an upload aborted before the store began reading it', async () => {
    // A store that looks at the key before it reads the body, as the local store does.
    let release!: () => void;
    const checked = new Promise<void>((r) => (release = r));
    const { bus } = await serveLocal(async (put, ...args) => {
      await checked;
      return put(...args);
    });
    const { uploadId } = await bus.request(COMMANDS.storagePutBegin, { v: 1, key: 'archives/x.tra' });
    await bus.request(COMMANDS.storagePutAbort, { v: 1, uploadId });
    await new Promise((r) => setTimeout(r, 50));
    release();
    await new Promise((r) => setTimeout(r, 50));
    // Still serving, and nothing was stored.
    expect(await bus.request(COMMANDS.storageHead, { v: 1, key: 'archives/x.tra' })).toEqual({ v: 1, object: null });
  });

  it('a put whose commit stored the object but whose reply was lost removes the object again (no orphan)', async () => {
    // The object is stored, then the reply comes too late for the writer (as when NATS restarts mid-commit).
    const { local, bus } = await serveLocal(async (put, ...args) => {
      const result = await put(...args);
      await new Promise((r) => setTimeout(r, 3000));
      return result;
    });
    const remote = await RemoteObjectStore.connect(bus, undefined, { commitTimeoutMs: 500, cleanupDelayMs: 200 });
    await expect(remote.put('archives/20261126T000000Z-0000abcd.tra', Buffer.from('archive bytes'))).rejects.toBeInstanceOf(NoReplyError);
    // The commit handler has finished by now; the object it stored is gone.
    await new Promise((r) => setTimeout(r, 3000));
    expect(await local.head('archives/20261126T000000Z-0000abcd.tra')).toBeUndefined();
  });

  it('a commit whose reply is late is asked for again: the put succeeds with the one stored object', async () => {
    let puts = 0;
    // Stored at once, replied to after several of the writer's waits (as when the reply is lost in a NATS restart).
    const { local, bus } = await serveLocal(async (put, ...args) => {
      puts++;
      const result = await put(...args);
      await new Promise((r) => setTimeout(r, 1500));
      return result;
    });
    const remote = await RemoteObjectStore.connect(bus, undefined, { commitTimeoutMs: 20_000, askMs: 300, askPauseMs: 100 });
    const warn = vi.spyOn(bus.logger, 'warn');
    const bytes = Buffer.from('archive bytes');
    const result = await remote.put('archives/20261126T000000Z-0000abce.tra', bytes);
    expect(result).toEqual({ size: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex') });
    expect(warn.mock.calls.filter((c) => /^no reply to the commit of .*; asking the storage-gateway again$/.test(String(c[1]))).length, 'asked again').toBeGreaterThan(0);
    expect(puts).toBe(1);
    expect((await local.head('archives/20261126T000000Z-0000abce.tra'))?.size).toBe(bytes.byteLength);
  });

  it('answers a repeated commit of one upload with the same outcome, and a commit of an unknown upload with NOT_FOUND', async () => {
    const { bus } = await serveLocal();
    const { uploadId, instance } = await bus.request(COMMANDS.storagePutBegin, { v: 1, key: 'manifests/20261126T000000Z-0000abcf.json' });
    const to = instance ? { instance } : {};
    await bus.request(COMMANDS.storagePutChunk, Buffer.from('{"a":1}'), { ...to, headers: { [HEADERS.uploadId]: uploadId, [HEADERS.sequence]: '0' } });
    const first = await bus.request(COMMANDS.storagePutCommit, { v: 1, uploadId, chunks: 1 }, to);
    const again = await bus.request(COMMANDS.storagePutCommit, { v: 1, uploadId, chunks: 1 }, to);
    expect(again).toEqual(first);
    expect(first.size).toBe(7);
    await expect(bus.request(COMMANDS.storagePutCommit, { v: 1, uploadId: 'no-such-upload', chunks: 1 }, to)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('a chunk whose reply is late is sent again and written once', async () => {
    // The store begins reading only after a while: the second chunk fills the body's buffer, and its reply waits for the store.
    const { bus, dir: stored } = await serveLocal(async (put, ...args) => {
      await new Promise((r) => setTimeout(r, 1500));
      return put(...args);
    });
    const remote = await RemoteObjectStore.connect(bus, undefined, { askMs: 300, askPauseMs: 100 });
    const warn = vi.spyOn(bus.logger, 'warn');
    const bytes = randomBytes(3 * 256 * 1024 + 100);
    const key = 'archives/20261126T000000Z-0000abd0.tra';
    expect((await remote.put(key, bytes)).sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(warn.mock.calls.filter((c) => /^no reply to chunk \d+ of .*; asking the storage-gateway again$/.test(String(c[1]))).length, 'sent again').toBeGreaterThan(0);
    expect((await readFile(join(stored, key))).equals(bytes), 'each chunk stored once, in order').toBe(true);
  });
});
