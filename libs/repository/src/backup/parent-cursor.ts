import type { Entry } from '@tresor/archive';

/**
 * Walks a parent backup's entries in step with a scan of the source. Both come in byte order of
 * the path (the catalog's order, and the filesystem source's), so looking up each scanned path
 * costs one step forward and memory stays constant however many entries the parent has.
 */
export class ParentCursor {
  private readonly iterator: AsyncIterator<Entry> | undefined;
  private current: Entry | undefined;
  private currentKey: Buffer | undefined;
  private done = false;

  constructor(entries: AsyncIterable<Entry> | undefined) {
    this.iterator = entries?.[Symbol.asyncIterator]();
    if (!this.iterator) this.done = true;
  }

  /** The parent's entry at `path`, if any. Paths must be asked for in increasing byte order. */
  async find(path: string): Promise<Entry | undefined> {
    const key = Buffer.from(path, 'utf8');
    for (;;) {
      if (!this.current && !(await this.advance())) return undefined;
      const order = Buffer.compare(this.currentKey!, key);
      if (order === 0) return this.current;
      if (order > 0) return undefined;
      this.current = undefined;
    }
  }

  private async advance(): Promise<boolean> {
    if (this.done) return false;
    const next = await this.iterator!.next();
    if (next.done) {
      this.done = true;
      return false;
    }
    this.current = next.value;
    this.currentKey = Buffer.from(next.value.path, 'utf8');
    return true;
  }
}
