import { UsageError } from '@tresor/errors';
import type { z } from 'zod';

/** Validates backend settings with `schema`, or throws one UsageError naming the field and the problem. */
export function parseBackendConfig<S extends z.ZodType>(
  backend: string,
  schema: S,
  input: unknown,
): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue && issue.path.length > 0 ? issue.path.join('.') : 'settings';
  throw new UsageError(`${backend} storage ${where}: ${issue?.message ?? 'invalid'}`);
}
