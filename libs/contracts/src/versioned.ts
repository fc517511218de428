import { z } from 'zod';

/** Every message body carries its schema version in `v`; a receiver names the version it speaks. */
export function versioned<V extends number, S extends z.ZodRawShape>(v: V, shape: S) {
  return z.strictObject({ v: z.literal(v), ...shape });
}
