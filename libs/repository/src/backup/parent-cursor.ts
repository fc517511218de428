import type { Entry } from '@tresor/archive';

/** Parent entries taken from the catalog at a time: lookups between refills answer without a promise. */
const REFILL = 256;

/** A parent's entry found at a scanned path, with its index in the parent's table. */
export interface ParentEntry {
  readonly entry: Entry;
  readonly position: number;
}

/**
 * Walks a parent backup's entries in step with a scan of the source. Both come in byte order of
 * the path (the catalog's order, and the filesystem source's), so looking up each scanned path
 * costs one step forward and memory stays constant however many entries the parent has.
 */
export class ParentCursor {
  private readonly iterator: AsyncIterator<Entry> | undefined;
  /** Entries taken from the iterator and not yet passed; `next` indexes the current one. */
  private buffer: Entry[] = [];
  private next = 0;
  /** Index in the parent's table of buffer[0]. */
  private bufferStart = 0;
  private done = false;

  constructor(entries: AsyncIterable<Entry> | undefined) {
    this.iterator = entries?.[Symbol.asyncIterator]();
    if (!this.iterator) this.done = true;
  }

  /**
   * The parent's entry at `path`, if any, with its index in the parent's table (consecutive
   * indexes: no entry between them). Paths must be asked for in increasing byte order. Answers
   * at once while the entries taken from the catalog reach past `path`.
   */
  find(path: string): ParentEntry | undefined | Promise<ParentEntry | undefined> {
    for (; this.next < this.buffer.length; this.next++) {
      const order = compareUtf8(this.buffer[this.next]!.path, path);
      if (order === 0) return { entry: this.buffer[this.next]!, position: this.bufferStart + this.next };
      if (order > 0) return undefined;
    }
    if (this.done) return undefined;
    return this.refill().then(() => this.find(path));
  }

  /** Takes the next REFILL entries (fewer at the end) in place of the ones passed. */
  private async refill(): Promise<void> {
    this.bufferStart += this.buffer.length;
    this.buffer = [];
    this.next = 0;
    while (this.buffer.length < REFILL) {
      const next = await this.iterator!.next();
      if (next.done) {
        this.done = true;
        return;
      }
      this.buffer.push(next.value);
    }
  }
}

/**
 * Compares two strings in the byte order of their UTF-8 encodings without encoding them (two
 * buffers per scanned file were most of this cursor's cost). Below the surrogates UTF-16 code
 * unit order is code point order, which is UTF-8 byte order; past them the rest is encoded.
 */
export function compareUtf8(a: string, b: string): number {
  const shorter = Math.min(a.length, b.length);
  for (let i = 0; i < shorter; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if (x < 0xd800 && y < 0xd800) return x - y;
    // From the start of the character: a surrogate pair may differ in its second half only.
    const from = i > 0 && isHighSurrogate(a.charCodeAt(i - 1)) ? i - 1 : i;
    return Buffer.compare(Buffer.from(a.slice(from), 'utf8'), Buffer.from(b.slice(from), 'utf8'));
  }
  return a.length - b.length;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
