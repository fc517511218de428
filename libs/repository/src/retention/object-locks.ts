import { readFile } from 'node:fs/promises';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { IoError, UsageError } from '@tresor/errors';
import { parseStorageLocation } from '@tresor/storage';
import type { StorageConfig } from '../storage-config.js';

/** Tells until when storage refuses to delete an object (WORM), across every location. */
export interface LockProbe {
  /** How many locations can lock objects; with none there is nothing to ask. */
  readonly locations: number;
  /** The latest retention end of the object's copies, or undefined if no copy is locked. */
  retainedUntil(key: string): Promise<Date | undefined>;
  close(): Promise<void>;
}

interface S3Settings {
  readonly bucket: string;
  readonly prefix: string;
  readonly endpoint?: string;
  readonly region: string;
  readonly forcePathStyle: boolean;
  readonly credentials?: { accessKeyId: SecretRef; secretAccessKey: SecretRef };
}
type SecretRef = { env: string } | { file: string };

/**
 * Opens a probe over the repository's locations. Only S3 enforces per-object retention among the
 * backends (docs/storage.md), so only S3 locations are asked (one HEAD per object), with their own
 * client: the ObjectStore port has no retention query yet (ADR 16 says why and what replaces this).
 */
export async function openLockProbe(storage: StorageConfig, dir: string): Promise<LockProbe> {
  const raws = 'locations' in storage ? storage.locations : [];
  const clients: { name: string; client: S3Client; settings: S3Settings }[] = [];
  for (const raw of raws) {
    const location = parseStorageLocation(raw, dir);
    if (location.type !== 's3') continue;
    const settings = location.settings as S3Settings;
    const what = `storage location ${location.name} credentials`;
    const credentials = settings.credentials && {
      accessKeyId: await secret(settings.credentials.accessKeyId, `${what}.accessKeyId`),
      secretAccessKey: await secret(settings.credentials.secretAccessKey, `${what}.secretAccessKey`),
    };
    const client = new S3Client({
      region: settings.region,
      forcePathStyle: settings.forcePathStyle,
      maxAttempts: 3,
      ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
      ...(credentials ? { credentials } : {}),
    });
    clients.push({ name: location.name, client, settings });
  }
  return {
    locations: clients.length,
    async retainedUntil(key) {
      let latest: Date | undefined;
      for (const { name, client, settings } of clients) {
        let until: Date | undefined;
        try {
          const head = await client.send(new HeadObjectCommand({ Bucket: settings.bucket, Key: settings.prefix + key }));
          until = head.ObjectLockRetainUntilDate;
        } catch (err) {
          if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) continue;
          throw new IoError(`cannot read the retention of ${key} in storage location ${name}: ${(err as Error).message}`, { cause: err });
        }
        if (until && (!latest || until > latest)) latest = until;
      }
      return latest;
    },
    async close() {
      for (const { client } of clients) client.destroy();
    },
  };
}

async function secret(ref: SecretRef, what: string): Promise<string> {
  if ('env' in ref) {
    const value = process.env[ref.env];
    if (!value) throw new UsageError(`${what}: environment variable ${ref.env} is not set or empty`);
    return value;
  }
  try {
    return (await readFile(ref.file, 'utf8')).replace(/\r?\n$/, '');
  } catch (err) {
    throw new UsageError(`${what}: cannot read secret file ${ref.file} (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
}
