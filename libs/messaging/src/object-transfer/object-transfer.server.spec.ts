import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { COMMANDS, topology } from '@tresor/contracts';
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
  afterEach(async () => {
    await scope?.cleanup();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('survives an upload aborted before the store began reading it', async () => {
    scope = await natsScope();
    dir = await mkdtemp(join(tmpdir(), 'tresor-transfer-'));
    const local = await LocalStore.open({ path: dir });
    // A store that looks at the key before it reads the body, as the local store does.
    let release!: () => void;
    const checked = new Promise<void>((r) => (release = r));
    const store = withPut(local, async (put, ...args) => {
      await checked;
      return put(...args);
    });
    const { bus, stop } = await serve(scope, store);
    try {
      const { uploadId } = await bus.request(COMMANDS.storagePutBegin, { v: 1, key: 'archives/x.tra' });
      await bus.request(COMMANDS.storagePutAbort, { v: 1, uploadId });
      await new Promise((r) => setTimeout(r, 50));
      release();
      await new Promise((r) => setTimeout(r, 50));
      // Still serving, and nothing was stored.
      expect(await bus.request(COMMANDS.storageHead, { v: 1, key: 'archives/x.tra' })).toEqual({ v: 1, object: null });
    } finally {
      stop();
      await bus.close();
    }
  });

  it('a put whose commit stored the object but whose reply was lost removes the object again (no orphan)', async () => {
    scope = await natsScope();
    dir = await mkdtemp(join(tmpdir(), 'tresor-transfer-'));
    const local = await LocalStore.open({ path: dir });
    // The object is stored, then the reply comes too late for the writer (as when NATS restarts mid-commit).
    const store = withPut(local, async (put, ...args) => {
      const result = await put(...args);
      await new Promise((r) => setTimeout(r, 3000));
      return result;
    });
    const { bus, stop } = await serve(scope, store);
    try {
      const remote = await RemoteObjectStore.connect(bus, undefined, { commitTimeoutMs: 500, cleanupDelayMs: 200 });
      await expect(remote.put('archives/20261126T000000Z-0000abcd.tra', Buffer.from('archive bytes'))).rejects.toBeInstanceOf(NoReplyError);
      // The commit handler has finished by now; the object it stored is gone.
      await new Promise((r) => setTimeout(r, 3000));
      expect(await local.head('archives/20261126T000000Z-0000abcd.tra')).toBeUndefined();
    } finally {
      stop();
      await bus.close();
    }
  });
});
