import { isAbsolute, normalize } from 'node:path';
import { UsageError } from '@tresor/errors';
import { z } from 'zod';

/** Settings of the local filesystem backend. */
export interface LocalConfig {
  /** Absolute path of the directory that holds the objects. */
  readonly path: string;
}

const localConfigSchema = z.object({ path: z.string().min(1) }).strict();

/** Validates raw settings (from a config file or flags) into a LocalConfig, or throws UsageError. */
export function parseLocalConfig(input: unknown): LocalConfig {
  const parsed = localConfigSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? issue.path.join('.') : 'config';
    throw new UsageError(
      `local storage ${where}: ${issue?.message ?? 'invalid'}; expected { path: "/absolute/dir" }`,
    );
  }
  const { path } = parsed.data;
  if (path.includes('\0')) {
    throw new UsageError('local storage path contains a NUL character');
  }
  // Relative paths would silently depend on the working directory of whichever process opens the store.
  if (!isAbsolute(path)) {
    throw new UsageError(`local storage path ${JSON.stringify(path)} is not absolute`);
  }
  const normalized = normalize(path);
  return { path: normalized.length > 1 && normalized.endsWith('/') ? normalized.slice(0, -1) : normalized };
}
