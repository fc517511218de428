/**
 * Runs `task` over `items` with at most `limit` in flight, stopping at the first failure (which
 * it rethrows once the tasks already started have settled). An async iterable is pulled only as
 * fast as the tasks finish, so a stream of items is never held in memory; its own failure (a bad
 * entry table, say) counts as a failure too.
 */
export async function forEachConcurrent<T>(
  items: Iterable<T> | AsyncIterable<T>,
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  const iterator = Symbol.asyncIterator in items ? items[Symbol.asyncIterator]() : items[Symbol.iterator]();
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (!failure) {
      let next: IteratorResult<T>;
      try {
        next = await iterator.next();
      } catch (error) {
        failure ??= { error };
        return;
      }
      if (next.done) return;
      try {
        await task(next.value);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  if (failure) {
    // Lets an async source release what it holds (an open archive read).
    await Promise.resolve(iterator.return?.()).catch(() => undefined);
    throw failure.error;
  }
}

/**
 * Bytes held at once by concurrent tasks, bounded: `take` waits, in the order asked, until what is
 * held leaves room for `weight` (a task alone always gets through, however heavy); `give` returns it.
 */
export class WeightBudget {
  private held = 0;
  private readonly waiting: { readonly weight: number; readonly resolve: () => void }[] = [];

  constructor(private readonly max: number) {}

  /** Resolves once `weight` is taken from the budget. */
  take(weight: number): Promise<void> {
    if (this.waiting.length === 0 && this.fits(weight)) {
      this.held += weight;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push({ weight, resolve }));
  }

  /** Returns `weight` taken before, and lets waiting takers through that now fit. */
  give(weight: number): void {
    this.held -= weight;
    while (this.waiting.length > 0 && this.fits(this.waiting[0]!.weight)) {
      const next = this.waiting.shift()!;
      this.held += next.weight;
      next.resolve();
    }
  }

  private fits(weight: number): boolean {
    return this.held === 0 || this.held + weight <= this.max;
  }
}
