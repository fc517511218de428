import type { ObjectInfo } from '../object-store.js';
import type { PriceTable } from './policy.js';
import { DEFAULT_PRICE_CLASS } from './policy.js';

const GiB = 1024 ** 3;

/** Bytes of one group (a source, a tenant) in one class of one location, and what they cost a month. */
export interface CostLine {
  readonly location: string;
  readonly group: string;
  readonly storageClass: string;
  readonly objects: number;
  readonly bytes: number;
  /** Price per GiB-month applied, or undefined when the location names none for this class. */
  readonly pricePerGiBMonth?: number;
  readonly currency?: string;
  /** bytes / GiB × price; undefined without a price. */
  readonly monthlyCost?: number;
}

/** The objects of one location, listed, with its price table. */
export interface PricedListing {
  readonly location: string;
  readonly prices?: PriceTable;
  readonly objects: AsyncIterable<ObjectInfo> | Iterable<ObjectInfo>;
}

/**
 * Storage cost per location, group and class: object sizes summed per line and priced per
 * GiB-month from the location's table (the class's own price, else `default`). `groupOf` says
 * whose an object is; objects of a class-less backend are in class `default`.
 */
export async function storageCost(
  listings: readonly PricedListing[],
  groupOf: (key: string) => string,
): Promise<CostLine[]> {
  const lines: CostLine[] = [];
  for (const listing of listings) {
    const sums = new Map<string, { group: string; storageClass: string; objects: number; bytes: number }>();
    for await (const info of listing.objects) {
      const group = groupOf(info.key);
      const storageClass = info.storageClass ?? DEFAULT_PRICE_CLASS;
      const id = JSON.stringify([group, storageClass]);
      const sum = sums.get(id) ?? { group, storageClass, objects: 0, bytes: 0 };
      sum.objects += 1;
      sum.bytes += info.size;
      sums.set(id, sum);
    }
    for (const sum of sums.values()) {
      const table = listing.prices?.perGiBMonth;
      const price = table?.[sum.storageClass] ?? table?.[DEFAULT_PRICE_CLASS];
      lines.push({
        location: listing.location,
        ...sum,
        ...(price !== undefined
          ? {
              pricePerGiBMonth: price,
              currency: listing.prices!.currency,
              monthlyCost: (sum.bytes / GiB) * price,
            }
          : {}),
      });
    }
  }
  return lines.sort(
    (a, b) =>
      a.group.localeCompare(b.group) ||
      a.location.localeCompare(b.location) ||
      a.storageClass.localeCompare(b.storageClass),
  );
}
