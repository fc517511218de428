import { isAbsolute } from 'node:path';
import { z } from 'zod';
import { parseBackendConfig } from '../remote/parse-config.js';
import { timeoutSecondsSchema } from '../remote/timeout.js';
import { secretRefSchema } from '@tresor/secrets';

const sftpConfigSchema = z
  .object({
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535).default(22),
    username: z.string().min(1),
    /** Absolute directory on the server that holds the objects. */
    path: z
      .string()
      .refine((p) => isAbsolute(p) && !p.includes('\0'), 'must be an absolute path on the server'),
    /** Private key (OpenSSH or PEM) by reference. */
    privateKey: secretRefSchema.optional(),
    /** Passphrase of the private key, by reference. */
    passphrase: secretRefSchema.optional(),
    /** Password by reference, when the server does not take keys. */
    password: secretRefSchema.optional(),
    /** The server's public host key, as in a known_hosts or `.pub` line (`ssh-ed25519 AAAA…`). */
    hostKey: z.string().min(1).optional(),
    /** A known_hosts file to look the server's key up in (plain or hashed entries). */
    knownHostsFile: z.string().min(1).optional(),
    /** SSH connections kept open at most: the parallelism of this location. */
    connections: z.number().int().min(1).max(32).default(4),
    readyTimeoutMs: z.number().int().min(1000).default(20_000),
    /** Seconds a connection may go without answering SSH keepalives before it is dropped (its operations fail). */
    timeoutSeconds: timeoutSecondsSchema(60),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    if ((cfg.privateKey === undefined) === (cfg.password === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['privateKey'],
        message: 'give exactly one of privateKey or password',
      });
    }
    // Without a pinned host key anyone on the path could pose as the server and receive the archives.
    if ((cfg.hostKey === undefined) === (cfg.knownHostsFile === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['hostKey'],
        message: 'give exactly one of hostKey or knownHostsFile (the host key is always checked)',
      });
    }
  });

/** Settings of the SFTP backend. */
export type SftpConfig = z.output<typeof sftpConfigSchema>;

/** Validates raw SFTP settings, or throws UsageError naming the field. */
export function parseSftpConfig(input: unknown): SftpConfig {
  const config = parseBackendConfig('sftp', sftpConfigSchema, input);
  return { ...config, path: config.path.length > 1 ? config.path.replace(/\/+$/, '') : config.path };
}
