import { WrongKeyError } from '@tresor/errors';
import type { WrappedKey } from './wrapped-key.js';

/** Seals data keys under one key-encryption key (KEK). */
export interface KeyWrapper {
  readonly kekId: string;
  wrap(dek: Buffer): Promise<WrappedKey>;
}

/** Opens data keys sealed under one KEK; WrongKeyError for a wrong key, IntegrityError for a malformed wrap. */
export interface KeyUnwrapper {
  canUnwrap(wrapped: WrappedKey): boolean;
  unwrap(wrapped: WrappedKey): Promise<Buffer>;
}

/** Opens the first of `keys` any unwrapper can open; WrongKeyError naming the KEKs when none can. */
export async function unwrapDataKey(
  keys: readonly WrappedKey[],
  unwrappers: readonly KeyUnwrapper[],
): Promise<Buffer> {
  let firstFailure: unknown;
  for (const wrapped of keys) {
    for (const unwrapper of unwrappers) {
      if (!unwrapper.canUnwrap(wrapped)) continue;
      try {
        return await unwrapper.unwrap(wrapped);
      } catch (err) {
        firstFailure ??= err;
      }
    }
  }
  if (firstFailure !== undefined) throw firstFailure;
  const ids = keys.map((k) => k.kekId).join(', ') || 'none';
  throw new WrongKeyError(`none of the keys supplied matches a wrapped data key (key ids: ${ids})`);
}
