import type { ObjectStore } from '@tresor/storage';

/** Tells until when storage refuses to delete an object (WORM), across every location. */
export interface LockProbe {
  /** How many stores can lock objects; with none there is nothing to ask. */
  readonly locations: number;
  /** The latest retention end of the object's copies, or undefined if no copy is locked. */
  retainedUntil(key: string): Promise<Date | undefined>;
}

/** The lock probe of a store: its `retainedUntil` (S3 Object Lock), or nothing on stores that cannot retain. */
export function lockProbeOf(store: ObjectStore): LockProbe {
  const ask = store.retainedUntil?.bind(store);
  return {
    locations: ask ? 1 : 0,
    retainedUntil: async (key) => (ask ? ask(key) : undefined),
  };
}
