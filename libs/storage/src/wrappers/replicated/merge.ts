import type { ObjectInfo } from '../../object-store.js';

/** Merges listings that are each in key order into one in key order, each key once (first listing wins). */
export async function* mergeListings(listings: AsyncIterable<ObjectInfo>[]): AsyncIterable<ObjectInfo> {
  const iterators = listings.map((l) => l[Symbol.asyncIterator]());
  const heads = await Promise.all(
    iterators.map(async (it) => (await it.next()).value as ObjectInfo | undefined),
  );
  for (;;) {
    let smallest: ObjectInfo | undefined;
    for (const head of heads)
      if (head && (smallest === undefined || head.key < smallest.key)) smallest = head;
    if (smallest === undefined) return;
    yield smallest;
    const key = smallest.key;
    await Promise.all(
      heads.map(async (head, i) => {
        if (head?.key === key) heads[i] = (await iterators[i]!.next()).value as ObjectInfo | undefined;
      }),
    );
  }
}
