import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { wrappedKeySchema } from '@tresor/crypto';
import { IntegrityError, NotFoundError, UnsupportedError, UsageError } from '@tresor/errors';
import { CODECS, parseCodec, validateLevel } from '@tresor/archive';
import type { Codec } from '@tresor/archive';
import { storageConfigSchema } from './storage-config.js';
import { retentionConfigSchema } from './retention/policy.js';

export const REPOSITORY_FORMAT_VERSION = 1;

/** How the repository's data keys are protected; stored in storage as `repository.json`. */
const kekSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('passphrase'),
    /** A random key wrapped like every data key: unwrapping it proves the passphrase before any write. */
    check: wrappedKeySchema,
  }),
  z.object({
    type: z.literal('rsa-oaep-sha256'),
    kekId: z.string(),
    publicKeyPem: z.string(),
  }),
  /** The KEKs are the signed objects `kek/<version>.json` (key slots, versions; docs/format.md §14). */
  z.object({ type: z.literal('versioned') }),
]);
export type KekDescriptor = z.infer<typeof kekSchema>;

/** The repository's identity, kept in storage so the catalog can be rebuilt from storage alone. */
export const repositoryDescriptorSchema = z.object({
  formatVersion: z.number().int().positive(),
  repositoryId: z.string().min(1),
  createdAt: z.string(),
  kek: kekSchema,
  signing: z.object({ alg: z.literal('ed25519'), keyId: z.string(), publicKeyPem: z.string() }),
});
export type RepositoryDescriptor = z.infer<typeof repositoryDescriptorSchema>;

const codecSchema = z.string().transform((name, ctx): Codec => {
  try {
    return parseCodec(name);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
});

/** The host-side configuration file `tresor.json` of a standalone repository. */
export const localConfigSchema = z
  .object({
    formatVersion: z.number().int().positive(),
    repositoryId: z.string().min(1),
    storage: storageConfigSchema,
    catalog: z.object({ type: z.literal('sqlite'), path: z.string().min(1) }),
    compression: z.object({ codec: codecSchema, level: z.number().int() }),
    /** Pins the signing key so that a replaced repository.json in storage is noticed. */
    signingKeyId: z.string(),
    /** Retention policies for `tresor forget` (docs/retention.md); none unless configured. */
    retention: retentionConfigSchema.optional(),
  })
  .superRefine((cfg, ctx) => {
    try {
      validateLevel(cfg.compression.codec, cfg.compression.level);
    } catch (err) {
      ctx.addIssue({ code: 'custom', path: ['compression', 'level'], message: (err as Error).message });
    }
  });
export type LocalConfig = z.infer<typeof localConfigSchema>;

/** Reads and validates `tresor.json`, naming the file and field on any problem. */
export async function readLocalConfig(file: string): Promise<LocalConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new NotFoundError(`no repository at ${file.replace(/\/tresor\.json$/, '')}: run \`tresor init\` first`);
    }
    throw err;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new UsageError(`${file}: not valid JSON`);
  }
  const version = (raw as { formatVersion?: unknown })?.formatVersion;
  if (typeof version === 'number' && version > REPOSITORY_FORMAT_VERSION) {
    throw new UnsupportedError(
      `${file}: repository format version ${version} is newer than this tresor (supports ${REPOSITORY_FORMAT_VERSION}); upgrade tresor`,
    );
  }
  const parsed = localConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UsageError(`${file}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}

/** Parses `repository.json` from storage. */
export function parseRepositoryDescriptor(bytes: Buffer, location: string): RepositoryDescriptor {
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new IntegrityError(`repository.json in ${location} is not valid JSON`);
  }
  const version = (raw as { formatVersion?: unknown })?.formatVersion;
  if (typeof version === 'number' && version > REPOSITORY_FORMAT_VERSION) {
    throw new UnsupportedError(
      `repository in ${location} has format version ${version}, newer than this tresor (supports ${REPOSITORY_FORMAT_VERSION}); upgrade tresor`,
    );
  }
  const parsed = repositoryDescriptorSchema.safeParse(raw);
  if (!parsed.success) {
    throw new IntegrityError(`repository.json in ${location} is malformed: ${parsed.error.issues[0]!.message}`);
  }
  return parsed.data;
}

export const DEFAULT_COMPRESSION: { codec: Codec; level: number } = {
  codec: 'zstd',
  level: CODECS.zstd.defaultLevel,
};
