import { isAbsolute, resolve } from 'node:path';
import { UsageError } from '@tresor/errors';
import { z } from 'zod';
import { parseAzureConfig } from './azure/config.js';
import { parseFtpConfig } from './ftp/config.js';
import { parseGcsConfig } from './gcs/config.js';
import { parseLocalConfig } from './local/config.js';
import type { ObjectStore } from './object-store.js';
import { parseS3Config } from './s3/config.js';
import { parseSftpConfig } from './sftp/config.js';
import { parseLifecyclePolicy, parsePriceTable } from './tiering/policy.js';
import type { LifecyclePolicy, PriceTable } from './tiering/policy.js';

/** The backends a storage location can name. */
export const backendTypes = ['local', 's3', 'azure', 'gcs', 'sftp', 'ftp'] as const;
export type BackendType = (typeof backendTypes)[number];

const parsers: Record<BackendType, (settings: unknown) => unknown> = {
  local: parseLocalConfig,
  s3: parseS3Config,
  azure: parseAzureConfig,
  gcs: parseGcsConfig,
  sftp: parseSftpConfig,
  ftp: parseFtpConfig,
};

const commonSchema = z.object({
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'must be 1-63 of a-z 0-9 _ - (e.g. "offsite-s3")'),
  type: z.enum(backendTypes),
  /** Bytes per second this location may transfer (uploads and downloads together); unlimited when omitted. */
  bandwidthLimit: z.number().int().positive().optional(),
  /** Operations in flight at most against this location. */
  parallelism: z.number().int().min(1).max(256).optional(),
});

/** One storage location as configured: a name, a backend and its validated settings. */
export interface StorageLocation {
  readonly name: string;
  readonly type: BackendType;
  /** The backend's settings, validated by its own `parse<Backend>Config`. */
  readonly settings: unknown;
  readonly bandwidthLimit?: number;
  readonly parallelism?: number;
  /** Moves archives to colder classes as they age (`tresor storage tier`); backends with classes only. */
  readonly lifecycle?: LifecyclePolicy;
  /** Prices per GiB-month and class, for `tresor storage cost`. */
  readonly prices?: PriceTable;
}

/**
 * Validates one location (`{ name, type, ...backend settings }`). `baseDir` resolves a relative
 * local path. Errors are UsageErrors that name the location and the field.
 */
export function parseStorageLocation(raw: unknown, baseDir?: string): StorageLocation {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new UsageError('storage location: expected an object { name, type, ...settings }');
  }
  const { name, type, bandwidthLimit, parallelism, lifecycle, prices, ...settings } = raw as Record<
    string,
    unknown
  >;
  const common = commonSchema.safeParse({ name, type, bandwidthLimit, parallelism });
  if (!common.success) {
    const issue = common.error.issues[0]!;
    const label = typeof name === 'string' ? `storage location ${name}` : 'storage location';
    throw new UsageError(`${label}: ${issue.path.join('.')}: ${issue.message}`);
  }
  const backend = common.data.type;
  if (
    backend === 'local' &&
    typeof settings.path === 'string' &&
    baseDir !== undefined &&
    !isAbsolute(settings.path)
  ) {
    settings.path = resolve(baseDir, settings.path);
  }
  try {
    return {
      ...common.data,
      settings: parsers[backend](settings),
      ...(lifecycle !== undefined ? { lifecycle: parseLifecyclePolicy(lifecycle, backend) } : {}),
      ...(prices !== undefined ? { prices: parsePriceTable(prices, backend) } : {}),
    };
  } catch (err) {
    if (err instanceof UsageError)
      throw new UsageError(`storage location ${common.data.name}: ${err.message}`);
    throw err;
  }
}

/** Opens the backend of a location (loading only that backend's client library) with its limits applied. */
export async function openLocation(location: StorageLocation): Promise<ObjectStore> {
  let store = await openBackend(location);
  if (location.parallelism !== undefined) {
    const { LimitedStore } = await import('./wrappers/throttle/limited.store.js');
    store = new LimitedStore(store, location.parallelism);
  }
  if (location.bandwidthLimit !== undefined) {
    const { ThrottledStore } = await import('./wrappers/throttle/throttled.store.js');
    store = new ThrottledStore(store, location.bandwidthLimit);
  }
  return store;
}

async function openBackend(location: StorageLocation): Promise<ObjectStore> {
  switch (location.type) {
    case 'local':
      return (await import('./local/local.store.js')).LocalStore.open(location.settings as never);
    case 's3':
      return (await import('./s3/s3.store.js')).S3Store.open(location.settings as never);
    case 'azure':
      return (await import('./azure/azure.store.js')).AzureStore.open(location.settings as never);
    case 'gcs':
      return (await import('./gcs/gcs.store.js')).GcsStore.open(location.settings as never);
    case 'sftp':
      return (await import('./sftp/sftp.store.js')).SftpStore.open(location.settings as never);
    case 'ftp':
      return (await import('./ftp/ftp.store.js')).FtpStore.open(location.settings as never);
  }
}
