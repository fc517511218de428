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

/** GCS storage classes from the warmest to the coldest; all of them are readable at once. */
export const gcsStorageClasses = ['STANDARD', 'NEARLINE', 'COLDLINE', 'ARCHIVE'] as const;

const gcsConfigSchema = z
  .object({
    bucket: z.string().regex(/^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/, 'is not a valid GCS bucket name'),
    prefix: prefixSchema.default(''),
    projectId: z.string().min(1).optional(),
    /** A GCS-compatible API endpoint; Google's when omitted. */
    apiEndpoint: z.url().optional(),
    /** Service-account key (JSON) by reference; Application Default Credentials when omitted. */
    keyFile: secretRefSchema.optional(),
    storageClass: z.enum(gcsStorageClasses).optional(),
    /** Resumable-upload chunk size; each chunk is buffered, so memory per upload is about this. */
    chunkSizeMiB: z.number().int().min(1).max(1024).default(8),
    /** Seconds one HTTP request (one chunk is one request) may take before it is given up. */
    timeoutSeconds: timeoutSecondsSchema(300),
  })
  .strict();

/** Settings of the Google Cloud Storage backend. */
export type GcsConfig = z.output<typeof gcsConfigSchema>;

/** Validates raw GCS settings, or throws UsageError naming the field. */
export function parseGcsConfig(input: unknown): GcsConfig {
  return parseBackendConfig('gcs', gcsConfigSchema, input);
}
