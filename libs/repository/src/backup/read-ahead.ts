/** How far `readAhead` may run ahead: in items, and in the weight (bytes) of the started items. */
export interface ReadAheadLimits<P> {
  readonly depth: number;
  readonly maxWeight: number;
  /** Weight of a prepared item (the bytes its start will hold in memory). */
  readonly weigh: (prepared: P) => number;
}

/**
 * Yields `start(prepared)` for each item, in order, with up to `depth` items (and `maxWeight`
 * bytes) started ahead of the one being consumed. `prepare` runs strictly one item at a time (for
 * in-order work such as walking the parent's entries); `start` may run concurrently (reading
 * files), which hides the latency of each file's open/read/close behind the work on earlier ones.
 */
export async function* readAhead<T, P, R>(
  items: AsyncIterable<T>,
  limits: ReadAheadLimits<P>,
  prepare: (item: T) => Promise<P>,
  start: (prepared: P) => Promise<R>,
): AsyncGenerator<R> {
  const { depth, maxWeight, weigh } = limits;
  const queue: { result: Promise<R>; weight: number }[] = [];
  let weight = 0;
  const next = (): Promise<R> => {
    const head = queue.shift()!;
    weight -= head.weight;
    return head.result;
  };
  for await (const item of items) {
    const prepared = await prepare(item);
    const started = start(prepared);
    // Rejections are delivered when the consumer reaches the item, not as unhandled ones now.
    started.catch(() => undefined);
    queue.push({ result: started, weight: weigh(prepared) });
    weight += queue[queue.length - 1]!.weight;
    // Drained to half before more are started: starts come in runs, which readers can batch.
    if (queue.length >= depth || weight >= maxWeight) {
      while (queue.length > depth / 2 || (weight > maxWeight / 2 && queue.length > 0)) yield await next();
    }
  }
  while (queue.length > 0) yield await next();
}
