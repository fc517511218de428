/**
 * A bandwidth budget shared by every transfer of one location: `bytesPerSecond` tokens refill
 * continuously, with at most one second's worth saved up (so a pause does not buy a burst).
 */
export class TokenBucket {
  private tokens: number;
  private last = performance.now();
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly bytesPerSecond: number) {
    this.tokens = bytesPerSecond;
  }

  /** Resolves once `bytes` may pass; callers are served in order. */
  take(bytes: number): Promise<void> {
    const turn = this.queue.then(() => this.wait(bytes));
    this.queue = turn;
    return turn;
  }

  private async wait(bytes: number): Promise<void> {
    this.refill();
    this.tokens -= bytes;
    if (this.tokens >= 0) return;
    // In debt: wait until the refill has paid it back.
    await new Promise((resolve) => setTimeout(resolve, (-this.tokens / this.bytesPerSecond) * 1000));
    this.refill();
  }

  private refill(): void {
    const now = performance.now();
    this.tokens = Math.min(
      this.bytesPerSecond,
      this.tokens + ((now - this.last) / 1000) * this.bytesPerSecond,
    );
    this.last = now;
  }
}
