/**
 * A FIFO of byte chunks that hands out exact-size slices without re-concatenating everything it
 * holds, so a stream that frames its input stays linear in the bytes that pass through it.
 */
export class ByteQueue {
  private chunks: Buffer[] = [];
  private head = 0;
  private total = 0;

  /** Bytes currently held. */
  get length(): number {
    return this.total;
  }

  /** Appends a chunk (kept by reference; callers must not modify it afterwards). */
  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.total += chunk.length;
  }

  /**
   * Removes and returns the first `n` bytes (fewer if fewer are held): a view of the chunk that
   * holds them all, else a copy gathered from the chunks they span.
   */
  take(n: number): Buffer {
    const size = Math.min(n, this.total);
    const first = this.chunks[0];
    if (first !== undefined && first.length - this.head >= size) {
      const view = first.subarray(this.head, this.head + size);
      this.head += size;
      if (this.head === first.length) {
        this.chunks.shift();
        this.head = 0;
      }
      this.total -= size;
      return view;
    }
    const out = Buffer.allocUnsafe(size);
    let filled = 0;
    while (filled < size) {
      const chunk = this.chunks[0]!;
      const available = chunk.length - this.head;
      const used = Math.min(available, size - filled);
      chunk.copy(out, filled, this.head, this.head + used);
      filled += used;
      if (used === available) {
        this.chunks.shift();
        this.head = 0;
      } else {
        this.head += used;
      }
    }
    this.total -= size;
    return out;
  }
}
