/**
 * Settles every promise, except that once `needed` of them fulfilled the others get `graceMs`
 * more: those still pending then count as rejected with `cutOff(index)`'s error, and what they
 * later settle to goes to `late` (e.g. to close a store that opened after all). Under write policy
 * quorum a location that never answers must not stall what a majority already did.
 */
export function settleWithGrace<T>(
  promises: readonly Promise<T>[],
  needed: number,
  graceMs: number,
  cutOff: (index: number) => Error,
  late?: (index: number, result: PromiseSettledResult<T>) => void,
): Promise<PromiseSettledResult<T>[]> {
  return new Promise((resolve) => {
    const results: (PromiseSettledResult<T> | undefined)[] = promises.map(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const finish = () => {
      done = true;
      clearTimeout(timer);
      resolve(results.map((r, i) => r ?? { status: 'rejected', reason: cutOff(i) }));
    };
    promises.forEach((promise, i) => {
      void promise
        .then(
          (value): PromiseSettledResult<T> => ({ status: 'fulfilled', value }),
          (reason: unknown): PromiseSettledResult<T> => ({ status: 'rejected', reason }),
        )
        .then((result) => {
          if (done) return late?.(i, result);
          results[i] = result;
          if (results.every((r) => r !== undefined)) return finish();
          const fulfilled = results.filter((r) => r?.status === 'fulfilled').length;
          if (timer === undefined && fulfilled >= needed) timer = setTimeout(finish, graceMs);
        });
    });
  });
}
