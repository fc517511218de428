/**
 * At most `max` connections to one server, made on demand and reused. A connection that failed is
 * dropped rather than returned, so the next user gets a fresh one. Protocols with one operation at
 * a time per connection (FTP) get their parallelism limit from here.
 */
export class ConnectionPool<C> {
  private readonly idle: C[] = [];
  private readonly waiting: ((connection: C | undefined) => void)[] = [];
  private open = 0;
  private closed = false;

  constructor(
    private readonly max: number,
    private readonly connect: () => Promise<C>,
    private readonly disconnect: (connection: C) => Promise<void>,
  ) {}

  /** Runs `work` with a connection; drops the connection if `work` fails with a connection-level error. */
  async use<T>(
    work: (connection: C) => Promise<T>,
    isBroken: (err: unknown) => boolean = () => true,
  ): Promise<T> {
    const connection = await this.acquire();
    try {
      const result = await work(connection);
      this.release(connection);
      return result;
    } catch (err) {
      if (isBroken(err)) await this.discard(connection);
      else this.release(connection);
      throw err;
    }
  }

  /** Closes every idle connection; busy ones close when released. */
  async close(): Promise<void> {
    this.closed = true;
    const idle = this.idle.splice(0);
    this.open -= idle.length;
    await Promise.all(idle.map((c) => this.disconnect(c).catch(() => undefined)));
  }

  private async acquire(): Promise<C> {
    const idle = this.idle.pop();
    if (idle !== undefined) return idle;
    if (this.open < this.max) {
      this.open += 1;
      try {
        return await this.connect();
      } catch (err) {
        this.open -= 1;
        this.wakeOne();
        throw err;
      }
    }
    const handed = await new Promise<C | undefined>((resolve) => this.waiting.push(resolve));
    // undefined: a slot was freed by a dropped connection; make a new one.
    return handed ?? this.acquire();
  }

  private release(connection: C): void {
    if (this.closed) {
      this.open -= 1;
      void this.disconnect(connection).catch(() => undefined);
      return;
    }
    const next = this.waiting.shift();
    if (next) next(connection);
    else this.idle.push(connection);
  }

  private async discard(connection: C): Promise<void> {
    this.open -= 1;
    await this.disconnect(connection).catch(() => undefined);
    this.wakeOne();
  }

  private wakeOne(): void {
    this.waiting.shift()?.(undefined);
  }
}
