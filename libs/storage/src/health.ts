import { randomBytes, randomUUID } from 'node:crypto';
import { statfs } from 'node:fs/promises';
import type { StorageLocation } from './location.js';
import { openLocation } from './location.js';

/** What `tresor storage check` reports for one location. */
export interface LocationHealth {
  readonly name: string;
  readonly type: string;
  readonly location?: string;
  readonly reachable: boolean;
  /** A probe object was stored, read back intact and deleted. */
  readonly writable: boolean;
  /** Round trip of one metadata request (head of a missing key). */
  readonly latencyMs?: number;
  /** Free bytes, where the backend can tell (local directories). */
  readonly freeBytes?: number;
  readonly error?: string;
}

/** Probe objects live under this prefix, so a crashed check leaves an obviously harmless key. */
const probePrefix = 'tresor-probe/';

/** Opens a location and probes it: reachable, writable (put + get + delete of a probe object), latency, free space. */
export async function checkLocation(location: StorageLocation): Promise<LocationHealth> {
  const base = { name: location.name, type: location.type };
  let store;
  try {
    store = await openLocation(location);
  } catch (err) {
    return { ...base, reachable: false, writable: false, error: (err as Error).message };
  }
  try {
    const started = performance.now();
    await store.head(`${probePrefix}missing`);
    const latencyMs = Math.round((performance.now() - started) * 10) / 10;
    const freeBytes =
      location.type === 'local' ? await freeSpace((location.settings as { path: string }).path) : undefined;
    const reachable = {
      ...base,
      location: store.location,
      reachable: true,
      latencyMs,
      ...(freeBytes === undefined ? {} : { freeBytes }),
    };
    const key = `${probePrefix}${randomUUID()}`;
    const bytes = randomBytes(1024);
    try {
      await store.put(key, bytes);
      const chunks: Buffer[] = [];
      for await (const chunk of await store.get(key)) chunks.push(chunk as Buffer);
      if (!Buffer.concat(chunks).equals(bytes))
        throw new Error('the probe object read back differs from what was written');
      return { ...reachable, writable: true };
    } catch (err) {
      return { ...reachable, writable: false, error: (err as Error).message };
    } finally {
      await store.delete(key).catch(() => undefined);
    }
  } catch (err) {
    return {
      ...base,
      location: store.location,
      reachable: false,
      writable: false,
      error: (err as Error).message,
    };
  } finally {
    await store.close?.();
  }
}

async function freeSpace(path: string): Promise<number | undefined> {
  try {
    const stats = await statfs(path);
    return stats.bavail * stats.bsize;
  } catch {
    return undefined;
  }
}
