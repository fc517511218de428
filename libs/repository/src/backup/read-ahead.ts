/** How far `readAhead` may run ahead: in items, and in the weight (bytes) of the started items. */
export interface ReadAheadLimits<P> {
  readonly depth: number;
  readonly maxWeight: number;
  /** Weight of a prepared item (the bytes its start will hold in memory). */
  readonly weigh: (prepared: P) => number;
}

/** A started item in the queue: its result once known. */
interface Slot<R> {
  readonly weight: number;
  settled: boolean;
  value?: R;
  failed?: boolean;
  error?: unknown;
  /** Resolves once the result is known (never rejects). */
  done?: Promise<void>;
}

/**
 * Yields `start(prepared)` for each item, in order, in runs of results that are ready, with up
 * to `depth` items (and `maxWeight` bytes) started ahead of the ones being consumed. `prepare`
 * runs strictly one item at a time (for in-order work such as walking the parent's entries);
 * `start` may run concurrently (reading files), which hides the latency of each file's
 * open/read/close behind the work on earlier ones. Items come in batches and either function
 * may answer at once rather than with a promise: an item that needs no I/O (an unchanged file)
 * then costs no promise at all (issue 9: a promise hop or two per item was ~0.15 s of 100k).
 */
export async function* readAhead<T, P, R>(
  batches: AsyncIterable<readonly T[]>,
  limits: ReadAheadLimits<P>,
  prepare: (item: T) => P | Promise<P>,
  start: (prepared: P) => R | Promise<R>,
): AsyncGenerator<R[]> {
  const { depth, maxWeight, weigh } = limits;
  const queue: Slot<R>[] = [];
  let weight = 0;
  const overLimit = (): boolean => queue.length > depth / 2 || (weight > maxWeight / 2 && queue.length > 0);
  /** The settled results at the head of the queue, taken while `more()` holds; throws at a failed one. */
  const takeSettled = (more: () => boolean): R[] => {
    const ready: R[] = [];
    while (more() && queue[0]!.settled) {
      // A failure is delivered when its item is reached: after the results before it.
      if (queue[0]!.failed && ready.length > 0) break;
      const slot = queue.shift()!;
      weight -= slot.weight;
      if (slot.failed) throw slot.error;
      ready.push(slot.value!);
    }
    return ready;
  };
  /** Drains while `more()` holds: the ready results as they come, waiting only on an unsettled head. */
  async function* drain(more: () => boolean): AsyncGenerator<R[]> {
    while (more()) {
      const ready = takeSettled(more);
      if (ready.length > 0) yield ready;
      else if (!queue[0]!.settled) await queue[0]!.done;
    }
  }
  for await (const batch of batches) {
    for (const item of batch) {
      const pending = prepare(item);
      const prepared = pending instanceof Promise ? await pending : pending;
      const slot = startSlot(start, prepared, weigh(prepared));
      queue.push(slot);
      weight += slot.weight;
      // Drained to half before more are started: starts come in runs, which readers can batch.
      if (queue.length >= depth || weight >= maxWeight) yield* drain(overLimit);
    }
  }
  yield* drain(() => queue.length > 0);
}

/** Starts one item: a slot already settled when `start` answered at once. */
function startSlot<P, R>(start: (prepared: P) => R | Promise<R>, prepared: P, weight: number): Slot<R> {
  let result: R | Promise<R>;
  try {
    result = start(prepared);
  } catch (error) {
    return { weight, settled: true, failed: true, error };
  }
  if (!(result instanceof Promise)) return { weight, settled: true, value: result };
  const slot: Slot<R> = { weight, settled: false };
  // Rejections are delivered when the consumer reaches the item, not as unhandled ones now.
  slot.done = result.then(
    (value) => {
      slot.value = value;
      slot.settled = true;
    },
    (error: unknown) => {
      slot.error = error;
      slot.failed = true;
      slot.settled = true;
    },
  );
  return slot;
}
