import { z } from 'zod';

/** Longest backup id accepted (ids become object-key segments). */
export const MAX_BACKUP_ID_LENGTH = 128;

/** A backup id: non-empty [A-Za-z0-9._-], not '.' or '..', so it is safe inside an object key. */
export const backupIdSchema = z
  .string()
  .min(1)
  .max(MAX_BACKUP_ID_LENGTH)
  .regex(/^[A-Za-z0-9._-]+$/, 'may only contain A-Z, a-z, 0-9, ".", "_" and "-"')
  .refine((id) => id !== '.' && id !== '..', 'must not be "." or ".."');

/** Lower-case hex SHA-256. */
export const sha256HexSchema = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex digits');

/** An ISO 8601 UTC timestamp as Date.prototype.toISOString writes it. */
export const timestampSchema = z.iso.datetime();
