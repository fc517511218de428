import { randomBytes } from 'node:crypto';

/** Length of a data-encryption key (DEK). */
export const DATA_KEY_SIZE = 32;

/** A fresh random data-encryption key; every archive gets its own. */
export function generateDataKey(): Buffer {
  return randomBytes(DATA_KEY_SIZE);
}
