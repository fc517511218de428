/**
 * An async iterable whose first item is asked for when it is created rather than when a loop
 * begins: the work behind it (a source's scan thread starting up and walking its first batches)
 * overlaps what the caller does first. `stop` ends it, closing what it started, when no loop ever
 * takes it; a loop that ends early ends it as usual.
 */
export class StartedEarly<T> implements AsyncIterable<T> {
  private readonly iterator: AsyncIterator<T>;
  private first: Promise<IteratorResult<T>> | undefined;
  private taken = false;

  constructor(items: AsyncIterable<T>) {
    this.iterator = items[Symbol.asyncIterator]();
    this.first = this.iterator.next();
    // A failure (say, a source that does not exist) is the loop's to report when it gets there.
    this.first.catch(() => undefined);
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    if (this.taken) throw new Error('a StartedEarly iterable is iterated once');
    this.taken = true;
    return {
      next: () => {
        const first = this.first;
        this.first = undefined;
        return first ?? this.iterator.next();
      },
      return: async (value?: unknown) => {
        this.first = undefined;
        return (await this.iterator.return?.(value)) ?? { done: true, value: undefined };
      },
    };
  }

  /** Ends the iteration if no loop took it (then what it started is closed); otherwise does nothing. */
  async stop(): Promise<void> {
    if (this.taken) return;
    this.taken = true;
    await this.iterator.return?.();
  }
}
