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
