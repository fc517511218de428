import { z } from 'zod';
import { parseBackendConfig } from '../remote/parse-config.js';
import { timeoutSecondsSchema } from '../remote/timeout.js';
import { secretRefSchema } from '@tresor/secrets';

const prefixSchema = z
  .string()
  .regex(
    /^([A-Za-z0-9._-]+\/)*$/,
    'must be segments of A-Z a-z 0-9 . _ - each ending in "/", e.g. "tresor/"',
  );

/** Azure access tiers from the warmest to the coldest; Archive blobs are offline until rehydrated. */
export const azureAccessTiers = ['Hot', 'Cool', 'Cold', 'Archive'] as const;

const azureConfigSchema = z
  .object({
    container: z
      .string()
      .regex(/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/, 'is not a valid Azure container name'),
    prefix: prefixSchema.default(''),
    /** `https://<account>.blob.core.windows.net`; not needed with a connection string. */
    accountUrl: z.url().optional(),
    /** Storage account name, with `accountKey`. */
    accountName: z.string().min(1).optional(),
    /** Shared key of the account (by reference). */
    accountKey: secretRefSchema.optional(),
    /** A SAS token for the container (by reference), instead of an account key. */
    sasToken: secretRefSchema.optional(),
    /** A full connection string (by reference; it contains the account key). */
    connectionString: secretRefSchema.optional(),
    accessTier: z.enum(azureAccessTiers).optional(),
    /** Size of each staged block; memory per upload is about blockSizeMiB × concurrency. */
    blockSizeMiB: z.number().int().min(1).max(4000).default(8),
    /** Blocks staged in parallel per object. */
    concurrency: z.number().int().min(1).max(64).default(4),
    /** Seconds one request (one try; a staged block is one request) may take before it is retried. */
    timeoutSeconds: timeoutSecondsSchema(300),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const ways = [cfg.connectionString, cfg.accountKey, cfg.sasToken].filter((x) => x !== undefined).length;
    if (ways !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['connectionString'],
        message:
          'give exactly one of connectionString, accountKey (with accountName and accountUrl) or sasToken (with accountUrl)',
      });
    }
    if ((cfg.accountKey || cfg.sasToken) && !cfg.accountUrl) {
      ctx.addIssue({
        code: 'custom',
        path: ['accountUrl'],
        message: 'is required with accountKey or sasToken',
      });
    }
    if (cfg.accountKey && !cfg.accountName) {
      ctx.addIssue({ code: 'custom', path: ['accountName'], message: 'is required with accountKey' });
    }
  });

/** Settings of the Azure Blob backend. */
export type AzureConfig = z.output<typeof azureConfigSchema>;

/** Validates raw Azure settings, or throws UsageError naming the field. */
export function parseAzureConfig(input: unknown): AzureConfig {
  return parseBackendConfig('azure', azureConfigSchema, input);
}
