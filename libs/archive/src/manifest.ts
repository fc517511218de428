import { z } from 'zod';
import { canonicalJson, sign, verifySignature } from '@tresor/crypto';
import { IntegrityError, UnsupportedError, UsageError } from '@tresor/errors';
import { backupIdSchema, sha256HexSchema, timestampSchema } from './ids.js';
import { firstIssue } from './zod-issue.js';

/** Manifest format version this build writes and the newest it reads. */
export const MANIFEST_FORMAT_VERSION = 1;
/** Largest manifest object accepted. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

const count = z.number().int().nonnegative();
const label = z.string().min(1).max(1024);

/** Schema of the unsigned part of a manifest. */
export const unsignedManifestSchema = z.strictObject({
  formatVersion: z.literal(MANIFEST_FORMAT_VERSION),
  repositoryId: label,
  backupId: backupIdSchema,
  source: z.strictObject({ id: label, kind: label, location: z.string().max(4096) }),
  level: z.enum(['full', 'differential', 'incremental']),
  parentId: backupIdSchema.nullable(),
  createdAt: timestampSchema,
  completedAt: timestampSchema,
  tags: z.array(z.string().min(1).max(256)).max(256),
  archive: z.strictObject({ key: z.string().min(1).max(1024), sha256: sha256HexSchema, size: count }),
  entriesRoot: sha256HexSchema,
  entryCount: count,
  /** Backups whose archives hold content this backup refers to (itself included when it stored any). */
  dataBackupIds: z.array(backupIdSchema),
  stats: z.strictObject({
    files: count,
    dirs: count,
    symlinks: count,
    bytesIn: count,
    bytesStored: count,
    reusedFiles: count,
  }),
});

/** Schema of a signed manifest. */
export const manifestSchema = unsignedManifestSchema.extend({
  signature: z.strictObject({ alg: z.literal('ed25519'), keyId: label, value: z.base64() }),
});

export type Manifest = z.infer<typeof manifestSchema>;
export type UnsignedManifest = z.infer<typeof unsignedManifestSchema>;

/** The exact bytes a manifest signature covers: canonical JSON of everything but `signature`, UTF-8. */
export function manifestSigningBytes(manifest: UnsignedManifest | Manifest): Buffer {
  const { signature: _signature, ...unsigned } = manifest as Manifest;
  return Buffer.from(canonicalJson(unsigned), 'utf8');
}

/** Validates and signs a manifest with Ed25519. */
export function signManifest(unsigned: UnsignedManifest, privateKeyPem: string, keyId: string): Manifest {
  const { signature: _ignored, ...rest } = unsigned as Partial<Manifest> & UnsignedManifest;
  const parsed = unsignedManifestSchema.safeParse(rest);
  if (!parsed.success) {
    throw new UsageError(
      `manifest of backup ${String(rest.backupId)} is invalid: ${firstIssue(parsed.error)}`,
    );
  }
  const value = sign(privateKeyPem, manifestSigningBytes(parsed.data));
  return { ...parsed.data, signature: { alg: 'ed25519', keyId, value } };
}

/** IntegrityError unless the signature is valid for `publicKeyPem`. */
export function verifyManifest(manifest: Manifest, publicKeyPem: string): void {
  if (!verifySignature(publicKeyPem, manifestSigningBytes(manifest), manifest.signature.value)) {
    throw new IntegrityError(
      `manifest of backup ${manifest.backupId} has an invalid signature (key ${manifest.signature.keyId}): it was altered or signed by another key`,
    );
  }
}

/** The stored form of a manifest: canonical JSON and a newline. */
export function serializeManifest(manifest: Manifest): string {
  return `${canonicalJson(manifest)}\n`;
}

/** Parses a stored manifest; IntegrityError (naming the backup when known) or UnsupportedError. */
export function parseManifest(bytes: Buffer | string): Manifest {
  const size = typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.length;
  if (size > MAX_MANIFEST_BYTES)
    throw new IntegrityError(`manifest of ${size} bytes is larger than ${MAX_MANIFEST_BYTES}`);
  let raw: unknown;
  try {
    const text = typeof bytes === 'string' ? bytes : new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    raw = JSON.parse(text);
  } catch {
    throw new IntegrityError('manifest is not valid UTF-8 JSON');
  }
  const backup = describeBackup(raw);
  const version = (raw as { formatVersion?: unknown } | null)?.formatVersion;
  if (typeof version === 'number' && version > MANIFEST_FORMAT_VERSION) {
    throw new UnsupportedError(
      `manifest${backup} has format version ${version}, newer than this tresor (supports ${MANIFEST_FORMAT_VERSION})`,
    );
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) throw new IntegrityError(`manifest${backup} is invalid: ${firstIssue(parsed.error)}`);
  return parsed.data;
}

function describeBackup(raw: unknown): string {
  const id = (raw as { backupId?: unknown } | null)?.backupId;
  return typeof id === 'string' && backupIdSchema.safeParse(id).success ? ` of backup ${id}` : '';
}
