import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rm, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { auditCheckpointSchema, auditEntrySchema } from '@tresor/contracts';
import type { AuditCheckpoint, AuditEntry } from '@tresor/contracts';
import { ConflictError, IntegrityError, IoError } from '@tresor/errors';
import type { AuditStore, StoredRecord } from '../store.js';

const LOCK_STALE_MS = 30_000;
const LOCK_WAIT_MS = 15_000;
const TAIL_CHUNK = 16 * 1024;

/**
 * The chain as JSON lines for standalone mode: `<dir>/audit.jsonl` (one entry a line) and
 * `<dir>/checkpoints.jsonl`. Every append is fsynced before it returns; a lock file serializes
 * appends of concurrent CLI processes, and the head is re-read under it.
 */
export class JsonlAuditStore implements AuditStore {
  readonly file: string;
  readonly checkpointFile: string;
  private readonly lockFile: string;

  constructor(readonly dir: string) {
    this.file = join(dir, 'audit.jsonl');
    this.checkpointFile = join(dir, 'checkpoints.jsonl');
    this.lockFile = join(dir, 'audit.lock');
  }

  async head(): Promise<AuditEntry | undefined> {
    const line = await lastLine(this.file);
    if (line === undefined) return undefined;
    const parsed = auditEntrySchema.safeParse(safeJson(line));
    if (!parsed.success) throw new IntegrityError(`audit log ${this.file} ends with a damaged entry; run \`tresor audit verify\``);
    return parsed.data;
  }

  async findById(id: string): Promise<AuditEntry | undefined> {
    for await (const record of this.scan()) {
      const parsed = auditEntrySchema.safeParse(record.raw);
      if (parsed.success && parsed.data.id === id) return parsed.data;
    }
    return undefined;
  }

  async append(entry: AuditEntry): Promise<void> {
    await this.locked(async () => {
      const head = await this.head();
      if (entry.seq !== (head?.seq ?? 0) + 1) throw new ConflictError(`audit log ${this.file}: seq ${entry.seq} is taken (head is ${head?.seq ?? 0})`);
      await appendLine(this.file, JSON.stringify(entry));
    });
  }

  async read(from: number, limit: number): Promise<AuditEntry[]> {
    const out: AuditEntry[] = [];
    for await (const record of this.scan()) {
      const parsed = auditEntrySchema.safeParse(record.raw);
      if (parsed.success && parsed.data.seq >= from) out.push(parsed.data);
      if (out.length >= limit) break;
    }
    return out;
  }

  scan(): AsyncIterable<StoredRecord> {
    return scanLines(this.file);
  }

  async appendCheckpoint(checkpoint: AuditCheckpoint): Promise<void> {
    await this.locked(async () => {
      const last = await this.lastCheckpoint();
      if (last && last.seq >= checkpoint.seq) return;
      await appendLine(this.checkpointFile, JSON.stringify(checkpoint));
    });
  }

  async lastCheckpoint(): Promise<AuditCheckpoint | undefined> {
    const line = await lastLine(this.checkpointFile);
    if (line === undefined) return undefined;
    const parsed = auditCheckpointSchema.safeParse(safeJson(line));
    return parsed.success ? parsed.data : undefined;
  }

  scanCheckpoints(): AsyncIterable<StoredRecord> {
    return scanLines(this.checkpointFile);
  }

  async close(): Promise<void> {}

  private async locked<T>(work: () => Promise<T>): Promise<T> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const deadline = Date.now() + LOCK_WAIT_MS;
    let handle: FileHandle | undefined;
    while (!handle) {
      try {
        handle = await open(this.lockFile, 'wx', 0o600);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new IoError(`cannot lock audit log ${this.lockFile}: ${(err as Error).message}`, { cause: err });
        // A writer that died leaves its lock behind; appends take milliseconds, so an old lock is stale.
        const age = await stat(this.lockFile).then((s) => Date.now() - s.mtimeMs, () => 0);
        if (age > LOCK_STALE_MS) await rm(this.lockFile, { force: true });
        else if (Date.now() > deadline) throw new IoError(`audit log ${this.dir} is locked by another tresor process (${this.lockFile}); remove it if no tresor command is running`);
        else await new Promise((r) => setTimeout(r, 10));
      }
    }
    try {
      await handle.writeFile(`${process.pid}\n`);
      return await work();
    } finally {
      await handle.close();
      await rm(this.lockFile, { force: true });
    }
  }
}

async function appendLine(file: string, line: string): Promise<void> {
  const existed = await stat(file).then(() => true, () => false);
  let handle: FileHandle;
  try {
    handle = await open(file, 'a', 0o600);
  } catch (err) {
    throw new IoError(`cannot write audit log ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  try {
    await handle.write(`${line}\n`);
    // The entry must be on disk before the operation it records goes ahead.
    await handle.sync();
  } catch (err) {
    throw new IoError(`cannot write audit log ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  } finally {
    await handle.close();
  }
  if (!existed) {
    const dirHandle = await open(dirname(file), 'r');
    try {
      await dirHandle.sync();
    } finally {
      await dirHandle.close();
    }
  }
}

async function lastLine(file: string): Promise<string | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new IoError(`cannot read audit log ${file}: ${(err as Error).message}`, { cause: err });
  }
  try {
    const { size } = await handle.stat();
    let chunk = TAIL_CHUNK;
    for (;;) {
      const start = Math.max(0, size - chunk);
      const buf = Buffer.alloc(size - start);
      await handle.read(buf, 0, buf.length, start);
      const lines = buf.toString('utf8').split('\n').filter((l) => l.trim() !== '');
      // With start > 0 the first line may be cut; use it only when the whole file was read.
      if (lines.length > (start > 0 ? 1 : 0)) return lines[lines.length - 1];
      if (start === 0) return undefined;
      chunk *= 4;
    }
  } finally {
    await handle.close();
  }
}

async function* scanLines(file: string): AsyncIterable<StoredRecord> {
  const exists = await stat(file).then(() => true, () => false);
  if (!exists) return;
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) {
    n += 1;
    if (line.trim() === '') continue;
    yield { position: `line ${n}`, raw: safeJson(line) };
  }
}

function safeJson(line: string): unknown {
  try {
    return JSON.parse(line) as unknown;
  } catch {
    return line;
  }
}

/** Reads a whole JSONL file's lines (tests and small exports). */
export async function readJsonlLines(file: string): Promise<string[]> {
  return (await readFile(file, 'utf8')).split('\n').filter((l) => l !== '');
}
