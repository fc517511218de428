import { z } from 'zod';
import { parseBackendConfig } from '../remote/parse-config.js';
import { timeoutSecondsSchema } from '../remote/timeout.js';
import { secretRefSchema } from '@tresor/secrets';

/**
 * S3 storage classes from the warmest to the coldest, the order tiering moves objects in.
 * REDUCED_REDUNDANCY sits next to STANDARD: on AWS it is a deprecated class, on MinIO the only
 * other one (an administrator maps it to a lower parity).
 */
export const s3StorageClasses = [
  'STANDARD',
  'REDUCED_REDUNDANCY',
  'INTELLIGENT_TIERING',
  'STANDARD_IA',
  'ONEZONE_IA',
  'GLACIER_IR',
  'GLACIER',
  'DEEP_ARCHIVE',
] as const;

/** Classes whose objects cannot be read until a RestoreObject request has made a temporary copy. */
export const s3OfflineClasses: readonly string[] = ['GLACIER', 'DEEP_ARCHIVE'];

/** A key prefix inside the bucket: segments of key characters, ending in '/'. */
const prefixSchema = z
  .string()
  .regex(
    /^([A-Za-z0-9._-]+\/)*$/,
    'must be segments of A-Z a-z 0-9 . _ - each ending in "/", e.g. "tresor/"',
  );

const s3ConfigSchema = z
  .object({
    bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'is not a valid S3 bucket name'),
    prefix: prefixSchema.default(''),
    /** Any S3-compatible endpoint (MinIO, Ceph, Wasabi…); AWS when omitted. */
    endpoint: z.url().optional(),
    region: z.string().min(1).default('us-east-1'),
    /** `https://host/bucket/key` instead of `https://bucket.host/key` (MinIO and most on-premise stores). */
    forcePathStyle: z.boolean().default(false),
    /** Static credentials by reference; the AWS default chain (env, profile, instance role) when omitted. */
    credentials: z
      .object({ accessKeyId: secretRefSchema, secretAccessKey: secretRefSchema })
      .strict()
      .optional(),
    serverSideEncryption: z
      .discriminatedUnion('type', [
        z.object({ type: z.literal('sse-s3') }).strict(),
        z.object({ type: z.literal('sse-kms'), kmsKeyId: z.string().min(1).optional() }).strict(),
      ])
      .optional(),
    storageClass: z.enum(s3StorageClasses).optional(),
    /** Multipart part size; memory per upload is about partSizeMiB × queueSize. */
    partSizeMiB: z.number().int().min(5).max(5120).default(8),
    /** Parts uploaded in parallel per object. */
    queueSize: z.number().int().min(1).max(64).default(4),
    /** Seconds without progress (connecting, or no byte either way) before a request is given up. */
    timeoutSeconds: timeoutSecondsSchema(60),
  })
  .strict();

/** Settings of the S3 backend. */
export type S3Config = z.output<typeof s3ConfigSchema>;

/** Validates raw S3 settings (from tresor.json or flags), or throws UsageError naming the field. */
export function parseS3Config(input: unknown): S3Config {
  return parseBackendConfig('s3', s3ConfigSchema, input);
}
