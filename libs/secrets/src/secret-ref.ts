import { readFile } from 'node:fs/promises';
import { UsageError, registerSecret } from '@tresor/errors';
import { z } from 'zod';

/**
 * Where a secret comes from. Configuration names the environment variable or file that holds it,
 * never the value, so config files, logs and error messages cannot leak it.
 */
export const secretRefSchema = z.union([
  z
    .object({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'not an environment variable name') })
    .strict(),
  z.object({ file: z.string().min(1) }).strict(),
]);
export type SecretRef = z.infer<typeof secretRefSchema>;

/** Reads a secret (registered for redaction: no log line, event or error of this process will show it); errors name the variable or file, never a value. */
export async function resolveSecret(ref: SecretRef, what: string): Promise<string> {
  const value = await readSecret(ref, what);
  registerSecret(value);
  return value;
}

async function readSecret(ref: SecretRef, what: string): Promise<string> {
  if ('env' in ref) {
    const value = process.env[ref.env];
    if (value === undefined || value === '') {
      throw new UsageError(`${what}: environment variable ${ref.env} is not set or empty`);
    }
    return value;
  }
  try {
    // A trailing newline is how editors and `echo` write secret files; it is never part of the secret.
    return (await readFile(ref.file, 'utf8')).replace(/\r?\n$/, '');
  } catch (err) {
    throw new UsageError(
      `${what}: cannot read secret file ${ref.file} (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`,
    );
  }
}

/** Reads a secret file as bytes (private keys), naming the file on failure. */
export async function resolveSecretBytes(ref: SecretRef, what: string): Promise<Buffer> {
  if ('env' in ref) return Buffer.from(await resolveSecret(ref, what));
  try {
    const bytes = await readFile(ref.file);
    registerSecret(bytes.toString('utf8'));
    return bytes;
  } catch (err) {
    throw new UsageError(
      `${what}: cannot read secret file ${ref.file} (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`,
    );
  }
}
