import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { Entry } from '@tresor/archive';
import type { BackupRecord } from '@tresor/catalog';
import { compileEntryQuery } from '@tresor/catalog';
import { fernetEncrypt } from '@tresor/crypto';
import { ConflictError, IntegrityError, UsageError } from '@tresor/errors';
import { ArchiveSet } from '../archives.js';
import { loadManifest } from '../manifests.js';
import type { Repository } from '../repository.js';

export const EXPORT_FORMATS = ['tar', 'tar.gz', 'zip', 'fernet'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** How to encrypt a tar/zip export: to age recipients (age1…, or SSH public keys), or with an age passphrase. */
export type ExportEncryption = { readonly type: 'age'; readonly recipients: readonly string[] } | { readonly type: 'age-passphrase'; readonly passphrase: string };

export interface ExportOptions {
  readonly format: ExportFormat;
  readonly output: string;
  readonly encryption?: ExportEncryption;
  /** The Fernet key (URL-safe base64 of 32 bytes); required for `fernet`. */
  readonly fernetKey?: string;
  readonly include?: readonly string[];
  readonly exclude?: readonly string[];
}

export interface ExportResult {
  readonly backupId: string;
  readonly output: string;
  readonly format: ExportFormat;
  readonly encrypted: boolean;
  readonly files: number;
  readonly bytes: number;
}

interface LoadedEntry {
  readonly entry: Entry;
  readonly content?: Buffer;
}

/** Fernet bundle content: a JSON document of every selected file. */
export const FERNET_BUNDLE_FORMAT = 'tresor-export/v1';

/**
 * Writes a backup's files as a standard tar, tar.gz or zip (optionally age-encrypted), or as one
 * Fernet token, for the day Tresor itself is unavailable. Everything is verified first (signed
 * manifests, stored archive hashes, entry table root, every file's SHA-256), is assembled in
 * memory (no plaintext on disk), and the output file is created 0600 and never overwritten.
 */
export async function runExport(repo: Repository, backup: BackupRecord, options: ExportOptions): Promise<ExportResult> {
  if (!EXPORT_FORMATS.includes(options.format)) throw new UsageError(`unknown export format '${String(options.format)}' (choose ${EXPORT_FORMATS.join(', ')})`);
  if (options.format === 'fernet' && options.encryption) throw new UsageError('a Fernet export is already encrypted: --encrypt applies to tar, tar.gz and zip');
  if (options.format === 'fernet' && !options.fernetKey) throw new UsageError('a Fernet export needs its key: --fernet-key-env VAR');
  if (options.encryption?.type === 'age' && options.encryption.recipients.length === 0) throw new UsageError('--encrypt age needs at least one --recipient');

  const entries = await loadEntries(repo, backup, options);
  let bytes: Buffer;
  if (options.format === 'fernet') bytes = Buffer.from(fernetEncrypt(options.fernetKey!, fernetBundle(backup, entries)) + '\n');
  else {
    bytes = options.format === 'zip' ? await zipOf(entries) : await tarOf(entries, options.format === 'tar.gz');
    if (options.encryption) bytes = await ageEncrypt(bytes, options.encryption);
  }
  const handle = await open(options.output, 'wx', 0o600).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'EEXIST') throw new ConflictError(`export output ${options.output} exists already: choose another --output`);
    throw err;
  });
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
  const files = entries.filter((e) => e.entry.type === 'file');
  return {
    backupId: backup.id,
    output: options.output,
    format: options.format,
    encrypted: options.format === 'fernet' || options.encryption !== undefined,
    files: files.length,
    bytes: files.reduce((n, e) => n + e.entry.size, 0),
  };
}

async function loadEntries(repo: Repository, backup: BackupRecord, options: ExportOptions): Promise<LoadedEntry[]> {
  const { manifest } = await loadManifest(repo, backup.id);
  // Every archive is checked against its manifest (and a good copy chosen) before anything is read.
  const archives = new ArchiveSet(repo);
  for (const id of new Set([backup.id, ...manifest.dataBackupIds])) await archives.locate(id);
  const reader = await archives.open(backup.id);
  const filter = compileEntryQuery({ include: options.include, exclude: options.exclude });
  const selected: Entry[] = [];
  for await (const entry of reader.entries({ expectedEntriesRoot: manifest.entriesRoot })) if (filter(entry.path)) selected.push(entry);
  const loaded: LoadedEntry[] = [];
  for (const entry of selected) {
    if (entry.type !== 'file') {
      loaded.push({ entry });
      continue;
    }
    const source = await archives.open(entry.data!.backupId);
    const chunks: Buffer[] = [];
    for await (const chunk of source.openContent(entry.data!, entry.size)) chunks.push(chunk as Buffer);
    const content = Buffer.concat(chunks);
    const sha256 = createHash('sha256').update(content).digest('hex');
    if (content.length !== entry.size || sha256 !== entry.sha256)
      throw new IntegrityError(`backup ${backup.id}: entry ${entry.path} does not match its recorded size and SHA-256`);
    loaded.push({ entry, content });
  }
  return loaded;
}

const mtimeOf = (entry: Entry): Date => new Date(Number(BigInt(entry.mtimeNs) / 1_000_000n));

async function tarOf(entries: readonly LoadedEntry[], gzip: boolean): Promise<Buffer> {
  // The format libraries load on demand: only `tresor export` needs them.
  const { default: tarStream } = await import('tar-stream');
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  const sink = new PassThrough();
  sink.on('data', (c: Buffer) => chunks.push(c));
  const done = gzip ? pipeline(pack, createGzip(), sink) : pipeline(pack, sink);
  for (const { entry, content } of entries) {
    const header = { name: entry.path, mode: entry.mode & 0o7777, uid: entry.uid, gid: entry.gid, mtime: mtimeOf(entry) };
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (entry.type === 'file') pack.entry({ ...header, type: 'file', size: content!.length }, content!, cb);
      else if (entry.type === 'dir') pack.entry({ ...header, type: 'directory' }, cb);
      else pack.entry({ ...header, type: 'symlink', linkname: entry.linkTarget! }, cb);
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

async function zipOf(entries: readonly LoadedEntry[]): Promise<Buffer> {
  const { default: yazl } = await import('yazl');
  const zip = new yazl.ZipFile();
  for (const { entry, content } of entries) {
    const opts = { mtime: mtimeOf(entry), mode: entry.mode };
    if (entry.type === 'file') zip.addBuffer(content!, entry.path, { ...opts, compress: true });
    else if (entry.type === 'dir') zip.addEmptyDirectory(entry.path, opts);
    // A symlink is stored as its target with S_IFLNK in the external attributes (Info-ZIP convention).
    else zip.addBuffer(Buffer.from(entry.linkTarget!, 'utf8'), entry.path, { ...opts, mode: 0o120777, compress: false });
  }
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function ageEncrypt(bytes: Buffer, encryption: ExportEncryption): Promise<Buffer> {
  const { Encrypter } = await import('age-encryption');
  const encrypter = new Encrypter();
  if (encryption.type === 'age-passphrase') encrypter.setPassphrase(encryption.passphrase);
  else {
    for (const recipient of encryption.recipients) {
      try {
        encrypter.addRecipient(recipient.trim());
      } catch (err) {
        throw new UsageError(`--recipient '${recipient}' is not an age recipient (age1…)`, { cause: err });
      }
    }
  }
  return Buffer.from(await encrypter.encrypt(new Uint8Array(bytes)));
}

function fernetBundle(backup: BackupRecord, entries: readonly LoadedEntry[]): Buffer {
  const files = entries
    .filter((e) => e.entry.type === 'file')
    .map(({ entry, content }) => ({ path: entry.path, mode: entry.mode & 0o7777, sha256: entry.sha256!, content: content!.toString('base64') }));
  return Buffer.from(JSON.stringify({ format: FERNET_BUNDLE_FORMAT, backupId: backup.id, createdAt: backup.createdAt, files }), 'utf8');
}
