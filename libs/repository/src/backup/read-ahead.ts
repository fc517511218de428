/**
 * Yields `start(prepared)` for each item, in order, with up to `depth` items started ahead of
 * the one being consumed. `prepare` runs strictly one item at a time (for in-order work such as
 * walking the parent's entries); `start` may run concurrently (reading files), which hides the
 * latency of each file's open/read/close behind the work on earlier ones.
 */
export async function* readAhead<T, P, R>(
  items: AsyncIterable<T>,
  depth: number,
  prepare: (item: T) => Promise<P>,
  start: (prepared: P) => Promise<R>,
): AsyncGenerator<R> {
  const queue: Promise<R>[] = [];
  for await (const item of items) {
    const started = start(await prepare(item));
    // Rejections are delivered when the consumer reaches the item, not as unhandled ones now.
    started.catch(() => undefined);
    queue.push(started);
    // Drained to half before more are started: starts come in runs, which readers can batch.
    if (queue.length >= depth) while (queue.length > depth / 2) yield await queue.shift()!;
  }
  while (queue.length > 0) yield await queue.shift()!;
}
