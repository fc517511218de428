import { createHash, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { TLSSocket } from 'node:tls';
import { posix } from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { Client } from 'basic-ftp';
import type { AccessOptions } from 'basic-ftp';
import { ConflictError, NotFoundError, UsageError } from '@tresor/errors';
import { normalizeExpectedSha256, validateByteRange } from '../arguments.js';
import { validateKeyPrefix, validateObjectKey } from '../keys.js';
import type {
  ByteRange,
  ObjectInfo,
  ObjectStore,
  PutOptions,
  PutResult,
  StoreCapabilities,
} from '../object-store.js';
import { hashChecked } from '../remote/hash-check.js';
import { ConnectionPool } from '../remote/pool.js';
import { resolveRange } from '../remote/range.js';
import { refuseRetention } from '../remote/retention.js';
import { resolveSecret } from '@tresor/secrets';
import type { TreeItem } from '../remote/tree-walk.js';
import { walkInKeyOrder } from '../remote/tree-walk.js';
import type { FtpConfig } from './config.js';
import { toFtpError } from './errors.js';

const tempDirName = '.tmp';
/** A temp file or lock this old belongs to a writer that died. */
const staleAgeMs = 60 * 60 * 1000;
/** How long a put waits for another writer's short commit of the same key. */
const lockWaitMs = 10_000;

/**
 * Objects as files under a directory on an FTP server, over explicit TLS by default. A put uploads
 * to `.tmp/<uuid>` and renames it to its key after the SHA-256 matched. FTP's rename replaces an
 * existing file, so the check-and-rename is guarded by a lock directory (MKD is atomic and fails
 * when the directory exists): two Tresor writers of one key cannot both win. FTP has one transfer per
 * connection, so the pool size is the parallelism; a ranged read restarts at the offset (REST) and
 * drops the connection once it has the bytes it needs.
 */
export class FtpStore implements ObjectStore {
  readonly location: string;
  readonly capabilities: StoreCapabilities = {
    immutability: false,
    rangedReads: false,
    serverSideCopy: false,
  };

  private constructor(
    private readonly pool: ConnectionPool<Client>,
    private readonly config: FtpConfig,
    private readonly endpoint: string,
  ) {
    this.location = `ftp://${config.username}@${endpoint}${config.path}`;
  }

  /** Connects (checking the TLS certificate and credentials), creates the temp area and removes stale temp files. */
  static async open(config: FtpConfig): Promise<FtpStore> {
    const endpoint = `${config.host}:${config.port}`;
    const access: AccessOptions = {
      host: config.host,
      port: config.port,
      user: config.username,
      password: await resolveSecret(config.password, `ftp storage ${endpoint} password`),
      secure: config.secure === 'implicit' ? 'implicit' : config.secure === 'explicit',
      secureOptions: {
        ...(config.caFile ? { ca: await readCa(config.caFile) } : {}),
        ...(isIP(config.host) ? {} : { servername: config.host }),
      },
    };
    const pool = new ConnectionPool<Client>(
      config.connections,
      async () => {
        const client = new Client(config.timeoutMs);
        try {
          await client.access(access);
        } catch (err) {
          client.close();
          throw err;
        }
        return client;
      },
      async (client) => client.close(),
    );
    const store = new FtpStore(pool, config, endpoint);
    await store.run(`cannot open ${store.location}`, async (client) => {
      await mkdirs(client, store.config.path, tempDirName);
      await store.removeStaleTemps(client);
    });
    return store;
  }

  async put(key: string, body: Readable | Uint8Array, options: PutOptions = {}): Promise<PutResult> {
    const doing = `cannot store object ${key} in ${this.location}`;
    const temp = posix.join(this.config.path, tempDirName, randomUUID());
    try {
      this.checkKey(key);
      refuseRetention(options, this.location);
      const expected = normalizeExpectedSha256(options.expectedSha256);
      if ((await this.head(key)) !== undefined) throw this.conflict(key);
      const checked = hashChecked(body, expected, `object ${key} for ${this.location}`);
      await this.run(doing, async (client) => {
        const source = Readable.from(endAfterHandshake(checked, client));
        // Failures reach us through uploadFrom's rejection and `checked.errored`.
        source.on('error', () => undefined);
        try {
          await client.uploadFrom(source, temp);
        } catch (err) {
          throw checked.errored ?? err;
        }
      });
      // uploadFrom resolves when the server confirmed the transfer; the hash check ran before the stream ended.
      const result = { size: checked.bytes, sha256: checked.sha256 };
      await this.run(doing, (client) => this.commit(client, key, temp));
      return result;
    } catch (err) {
      if (body instanceof Readable && !body.destroyed) body.destroy();
      await this.run(doing, (client) => client.remove(temp, true)).catch(() => undefined);
      throw toFtpError(err, doing, this.endpoint);
    }
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    this.checkKey(key);
    validateByteRange(range);
    const info = await this.head(key);
    if (info === undefined) throw new NotFoundError(`object ${key} not found in ${this.location}`);
    const { start, end } = resolveRange(range, info.size, key, this.location);
    if (start === end) return Readable.from([], { objectMode: false });
    const out = new PassThrough();
    const sink = limitedSink(out, end - start);
    void this.pool
      .use((client) => client.downloadTo(sink.writable, this.pathOf(key), start))
      .then(() => out.end())
      .catch((err: unknown) => {
        // Aborting the transfer once the range is complete is how a range ends; anything else is a failure.
        if (sink.complete()) out.end();
        else
          out.destroy(
            toFtpError(err, `cannot read object ${key} in ${this.location}`, this.endpoint) as Error,
          );
      });
    return out;
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    this.checkKey(key);
    return this.run(`cannot read object ${key} in ${this.location}`, async (client) => {
      const size = await sizeOf(client, this.pathOf(key));
      return size === undefined ? undefined : { key, size };
    });
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    validateKeyPrefix(prefix);
    const readDir = (dirKey: string): Promise<TreeItem[]> =>
      this.run(`cannot list ${dirKey || 'objects'} in ${this.location}`, async (client) => {
        const dir = dirKey === '' ? this.config.path : this.pathOf(dirKey);
        const entries = await client.list(dir).catch((err: unknown) => {
          if ((err as { code?: unknown }).code === 550) return [];
          throw err;
        });
        return entries
          .filter((e) => e.isFile || e.isDirectory)
          .map((e) => ({ name: e.name, isDir: e.isDirectory, size: e.size }));
      });
    yield* walkInKeyOrder(prefix, readDir, tempDirName);
  }

  async delete(key: string): Promise<void> {
    this.checkKey(key);
    await this.run(`cannot delete object ${key} in ${this.location}`, async (client) => {
      await client.remove(this.pathOf(key), true);
    });
  }

  /** Closes the FTP connections. */
  async close(): Promise<void> {
    await this.pool.close();
  }

  /** Renames the uploaded temp file to its key under the key's lock, refusing if the key exists. */
  private async commit(client: Client, key: string, temp: string): Promise<void> {
    const lock = posix.join(
      this.config.path,
      tempDirName,
      `lock-${createHash('sha256').update(key).digest('hex').slice(0, 32)}`,
    );
    await this.acquireLock(client, lock, key);
    try {
      if ((await sizeOf(client, this.pathOf(key))) !== undefined || (await isDir(client, this.pathOf(key)))) {
        throw this.conflict(key);
      }
      const segments = key.split('/');
      if (segments.length > 1)
        await mkdirs(client, this.config.path, ...segments.slice(0, -1)).catch(() => {
          throw new ConflictError(`a parent of object key ${key} is an existing object in ${this.location}`);
        });
      await client.rename(temp, this.pathOf(key));
    } finally {
      await client.send(`RMD ${lock}`).catch(() => undefined);
    }
  }

  private async acquireLock(client: Client, lock: string, key: string): Promise<void> {
    const deadline = Date.now() + lockWaitMs;
    for (;;) {
      try {
        await client.send(`MKD ${lock}`);
        return;
      } catch (err) {
        if ((err as { code?: unknown }).code !== 550) throw err;
      }
      const since = await client.lastMod(lock).catch(() => undefined);
      if (since !== undefined && Date.now() - since.getTime() > staleAgeMs) {
        await client.send(`RMD ${lock}`).catch(() => undefined);
        continue;
      }
      if (Date.now() > deadline) {
        throw new ConflictError(
          `object ${key} in ${this.location} is being written by another writer (lock ${lock})`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  private async removeStaleTemps(client: Client): Promise<void> {
    const dir = posix.join(this.config.path, tempDirName);
    for (const entry of await client.list(dir)) {
      const path = posix.join(dir, entry.name);
      const modified = await client.lastMod(path).catch(() => undefined);
      if (modified === undefined || Date.now() - modified.getTime() < staleAgeMs) continue;
      if (entry.isDirectory) await client.send(`RMD ${path}`).catch(() => undefined);
      else await client.remove(path, true);
    }
  }

  private async run<T>(doing: string, work: (client: Client) => Promise<T>): Promise<T> {
    try {
      // A failed command leaves the control connection usable; a failed transfer may not, so drop it then.
      return await this.pool.use(work, (err) => typeof (err as { code?: unknown }).code !== 'number');
    } catch (err) {
      throw toFtpError(err, doing, this.endpoint);
    }
  }

  private checkKey(key: string): void {
    validateObjectKey(key);
    if (key === tempDirName || key.startsWith(`${tempDirName}/`)) {
      throw new UsageError(
        `object key ${key} is reserved: ${tempDirName}/ holds the FTP backend's temporary files`,
      );
    }
  }

  private pathOf(key: string): string {
    return posix.join(this.config.path, key);
  }

  private conflict(key: string): ConflictError {
    return new ConflictError(`object ${key} already exists in ${this.location}; objects are never replaced`);
  }
}

/** The size of a file, or undefined when there is no file (SIZE answers 550 for missing paths and directories). */
async function sizeOf(client: Client, path: string): Promise<number | undefined> {
  try {
    return await client.size(path);
  } catch (err) {
    if ((err as { code?: unknown }).code === 550) return undefined;
    throw err;
  }
}

async function isDir(client: Client, path: string): Promise<boolean> {
  try {
    await client.cd(path);
    return true;
  } catch (err) {
    if ((err as { code?: unknown }).code === 550) return false;
    throw err;
  }
}

/** Creates `root/segments…` level by level; an existing directory is fine, an existing file is not. */
async function mkdirs(client: Client, root: string, ...segments: string[]): Promise<void> {
  let dir = root;
  for (const segment of segments) {
    dir = posix.join(dir, segment);
    try {
      await client.send(`MKD ${dir}`);
    } catch (err) {
      if ((err as { code?: unknown }).code !== 550 || !(await isDir(client, dir))) throw err;
    }
  }
}

/** A writable that passes `limit` bytes to `out`, then fails the transfer on purpose (complete() says so). */
function limitedSink(out: PassThrough, limit: number): { writable: Writable; complete: () => boolean } {
  let received = 0;
  const writable = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      const take = chunk.subarray(0, limit - received);
      received += take.length;
      const flowing = out.write(take);
      if (received >= limit) {
        callback(new Error('range complete'));
        return;
      }
      if (flowing) callback();
      else out.once('drain', () => callback());
    },
  });
  out.once('close', () => {
    // The reader went away: stop the transfer.
    if (received < limit) writable.destroy();
  });
  return { writable, complete: () => received >= limit };
}

/**
 * The body, ending only once the data connection's TLS handshake is done: an empty body that ends
 * before it makes the client close the socket mid-handshake and breaks the control connection.
 */
async function* endAfterHandshake(body: Readable, client: Client): AsyncGenerator<Buffer> {
  yield* body as AsyncIterable<Buffer>;
  const socket = client.ftp.dataSocket;
  if (!(socket instanceof TLSSocket) || socket.authorized || socket.destroyed) return;
  await new Promise<void>((resolve) => {
    socket.once('secureConnect', () => resolve());
    socket.once('close', () => resolve());
  });
}

async function readCa(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new UsageError(
      `ftp caFile ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
}
