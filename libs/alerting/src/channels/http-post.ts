import { IoError } from '@tresor/errors';

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  readonly attempts: number;
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
}

export interface PostOptions {
  /** How the receiver is named in errors: never the URL itself, which may carry a token. */
  readonly what: string;
  readonly headers?: Record<string, string>;
  readonly timeoutMs: number;
  readonly retry: RetryPolicy;
  /** Waits between attempts; injected by tests that must not wait. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** The delay before attempt `n + 1` (n ≥ 1): initial · 2^(n-1), capped, with up to 20 % jitter off. */
export function backoffDelay(n: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const base = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** (n - 1));
  // Jitter spreads the retries of many senders after a receiver outage.
  return Math.round(base * (1 - 0.2 * random()));
}

/**
 * POSTs a body, retrying with exponential backoff on network errors, timeouts, 429 and 5xx; other
 * statuses fail at once (a retry cannot fix a 400 or 404). Gives up after `attempts` with an IoError.
 */
export async function postWithRetry(url: string, body: string, options: PostOptions): Promise<{ status: number; attempts: number }> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let last = '';
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...options.headers },
        body,
        signal: AbortSignal.timeout(options.timeoutMs),
        redirect: 'error',
      });
      // Drain the body so the connection is reused; its content is not needed (and not logged).
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) return { status: res.status, attempts: attempt };
      last = `HTTP ${res.status}`;
      if (res.status !== 429 && res.status < 500) {
        throw new IoError(`${options.what}: receiver answered ${last}; not retried`);
      }
    } catch (err) {
      if (err instanceof IoError) throw err;
      last = networkReason(err);
    }
    if (attempt >= options.retry.attempts) {
      throw new IoError(`${options.what}: gave up after ${attempt} attempt(s), last: ${last}`);
    }
    await sleep(backoffDelay(attempt, options.retry));
  }
}

/** A short reason for a failed fetch: the error code or name, never the URL. */
function networkReason(err: unknown): string {
  const e = err as { name?: string; cause?: { code?: string } };
  if (e.name === 'TimeoutError') return 'timed out';
  return e.cause?.code ?? e.name ?? 'network error';
}

/** `https://host:port/path` of a URL without credentials or query, for messages. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}
