import type { Readable } from 'node:stream';

/** Regroups a byte stream into blocks of exactly `size` bytes (the last one shorter, none if empty). */
export async function* blocksOf(stream: Readable, size: number): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const chunk of stream) {
    let bytes = chunk as Buffer;
    while (bytes.length > 0) {
      const take = Math.min(size - pendingBytes, bytes.length);
      pending.push(bytes.subarray(0, take));
      pendingBytes += take;
      bytes = bytes.subarray(take);
      if (pendingBytes === size) {
        yield Buffer.concat(pending, pendingBytes);
        pending = [];
        pendingBytes = 0;
      }
    }
  }
  if (pendingBytes > 0) yield Buffer.concat(pending, pendingBytes);
}

/**
 * Runs `work` on every item of `items` with at most `limit` in flight, reading items only as slots
 * free up (so a stream of blocks is never buffered beyond `limit`). The first failure stops reading
 * and is thrown once the running tasks have settled.
 */
export async function forEachLimited<T>(
  items: AsyncIterable<T>,
  limit: number,
  work: (item: T, index: number) => Promise<void>,
): Promise<void> {
  const running = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  let index = 0;
  try {
    for await (const item of items) {
      if (failure) break;
      const task: Promise<void> = work(item, index++)
        .catch((error: unknown) => {
          failure ??= { error };
        })
        .finally(() => running.delete(task));
      running.add(task);
      if (running.size >= limit) await Promise.race(running);
    }
  } catch (error) {
    failure ??= { error };
  }
  await Promise.all(running);
  if (failure) throw failure.error;
}
