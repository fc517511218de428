import type { z } from 'zod';
import { UsageError } from '@tresor/errors';

/** Validates a request body against its contract schema; the first issue becomes a 400 naming the field. */
export function parse<S extends z.ZodType>(schema: S, body: unknown, what: string): z.infer<S> {
  const r = schema.safeParse(body ?? {});
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new UsageError(`${what}: ${issue.path.join('.') || '(body)'}: ${issue.message}`);
  }
  return r.data;
}

/** A repeated query parameter as a list (Fastify gives a string for one value, an array for several). */
export const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
