/** Work a replica does only while it leads: starts it and returns how to stop it. */
export type LeaderTerm = () => Promise<() => Promise<void>>;

export interface LeaderTermsOptions {
  /** A term that failed to start is retried this often while still leader (default 1000 ms). */
  readonly retryMs?: number;
  readonly onError?: (err: unknown) => void;
}

/**
 * Runs one `term` per period of leadership: `set(true)` starts it, `set(false)` stops it. Changes
 * are applied one after another, so a quick lose-and-win never runs two terms at once and a new
 * term starts only after the previous one stopped (it can then resume from what that one stored).
 * A term that fails to start (its store is away) is retried while this replica still leads.
 */
export class LeaderTerms {
  private chain: Promise<void> = Promise.resolve();
  private stopTerm: (() => Promise<void>) | undefined;
  private wanted = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(
    private readonly term: LeaderTerm,
    private readonly options: LeaderTermsOptions = {},
  ) {}

  /** Leadership changed: start or stop the term; resolves when that is done. */
  set(leader: boolean): Promise<void> {
    this.wanted = leader;
    clearTimeout(this.retry);
    this.chain = this.chain.then(() => this.settle());
    return this.chain;
  }

  /** True while a term runs. */
  running(): boolean {
    return this.stopTerm !== undefined;
  }

  /** Stops the running term for good (service shutdown). */
  stop(): Promise<void> {
    return this.set(false);
  }

  private async settle(): Promise<void> {
    try {
      if (this.wanted && !this.stopTerm) this.stopTerm = await this.term();
      else if (!this.wanted && this.stopTerm) {
        const stop = this.stopTerm;
        this.stopTerm = undefined;
        await stop();
      }
    } catch (err) {
      this.options.onError?.(err);
      if (this.wanted && !this.stopTerm) {
        this.retry = setTimeout(() => void this.set(this.wanted), this.options.retryMs ?? 1000);
        this.retry.unref();
      }
    }
  }
}
