import { z } from 'zod';
import { parseBackendConfig } from '../remote/parse-config.js';
import { secretRefSchema } from '@tresor/secrets';

const ftpConfigSchema = z
  .object({
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535).default(21),
    username: z.string().min(1),
    password: secretRefSchema,
    /** Absolute directory on the server that holds the objects (`/` for a chrooted account). */
    path: z.string().regex(/^\/[^\0]*$/, 'must be an absolute path on the server'),
    /** TLS: explicit (AUTH TLS, the default), implicit (FTPS port 990), or none (plain FTP, credentials in clear). */
    secure: z.enum(['explicit', 'implicit', 'none']).default('explicit'),
    /** PEM file of a CA to trust besides the system's (a self-signed server certificate). */
    caFile: z.string().min(1).optional(),
    /** FTP connections kept open at most: one transfer each, so this is the parallelism of this location. */
    connections: z.number().int().min(1).max(16).default(2),
    timeoutMs: z.number().int().min(1000).default(30_000),
  })
  .strict();

/** Settings of the FTP/FTPS backend. */
export type FtpConfig = z.output<typeof ftpConfigSchema>;

/** Validates raw FTP settings, or throws UsageError naming the field. */
export function parseFtpConfig(input: unknown): FtpConfig {
  const config = parseBackendConfig('ftp', ftpConfigSchema, input);
  return { ...config, path: config.path.length > 1 ? config.path.replace(/\/+$/, '') : config.path };
}
