/**
 * Polls `probe` until it returns a value other than undefined, failing after `ms` with an error
 * that names `what`. With `tolerateErrors`, a probe that throws counts as "not yet" (a server
 * that is restarting); otherwise its error fails the wait at once.
 */
export async function until<T>(
  what: string,
  ms: number,
  probe: () => Promise<T | undefined>,
  options: { intervalMs?: number; tolerateErrors?: boolean } = {},
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = options.tolerateErrors ? await probe().catch(() => undefined) : await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 100));
  }
}
