import type { z } from 'zod';
import { ConfigError } from '../config-error.js';
import { describeFirstIssue } from '../issues.js';
import type { TresorConfigInput } from '../schema.js';

/** A seed file's translation: the Tresor config it amounts to and what could not be carried over. */
export interface Translation {
  readonly config: TresorConfigInput;
  readonly notes: string[];
}

/** Validates a seed document strictly: an unknown key is an error naming it, never dropped. */
export function parseSeed<T extends z.ZodType>(schema: T, json: unknown, where: string): z.infer<T> {
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new ConfigError(describeFirstIssue(where, parsed.error, schema, json));
  return parsed.data;
}
