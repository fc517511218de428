import { randomUUID } from 'node:crypto';
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import SftpClient from 'ssh2-sftp-client';
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
import { resolveSecret, resolveSecretBytes } from '@tresor/secrets';
import type { TreeItem } from '../remote/tree-walk.js';
import { walkInKeyOrder } from '../remote/tree-walk.js';
import type { SftpConfig } from './config.js';
import { toSftpError } from './errors.js';
import { keyBlobOf, knownHostKeys } from './known-hosts.js';

/** Where puts are staged, inside the root so that the final rename stays on one filesystem. */
const tempDirName = '.tmp';

/**
 * Objects as files under a directory on an SFTP server. A put streams into `.tmp/<uuid>` and is
 * renamed to its key only after the SHA-256 matched; SFTP's rename (unlike posix-rename) fails
 * when the target exists, so a put never replaces an object and one of two racing writers wins.
 * The server's host key is always checked against a pinned key or a known_hosts file.
 */
export class SftpStore implements ObjectStore {
  readonly location: string;
  readonly capabilities: StoreCapabilities = {
    immutability: false,
    rangedReads: true,
    serverSideCopy: false,
  };

  private constructor(
    private readonly pool: ConnectionPool<SftpClient>,
    private readonly config: SftpConfig,
    private readonly endpoint: string,
  ) {
    this.location = `sftp://${config.username}@${endpoint}${config.path}`;
  }

  /** Connects (checking host key and credentials) and creates the directory and its temp area. */
  static async open(config: SftpConfig): Promise<SftpStore> {
    const endpoint = `${config.host}:${config.port}`;
    const what = `sftp storage ${endpoint}`;
    const auth = config.privateKey
      ? {
          privateKey: await resolveSecretBytes(config.privateKey, `${what} privateKey`),
          ...(config.passphrase
            ? { passphrase: await resolveSecret(config.passphrase, `${what} passphrase`) }
            : {}),
        }
      : { password: await resolveSecret(config.password!, `${what} password`) };
    const trusted = config.hostKey
      ? [keyBlobOf(config.hostKey)]
      : await knownHostKeys(config.knownHostsFile!, config.host, config.port);
    if (trusted.length === 0) {
      throw new UsageError(`sftp knownHostsFile ${config.knownHostsFile} has no key for ${endpoint}`);
    }
    const connectOptions: SftpClient.ConnectOptions = {
      host: config.host,
      port: config.port,
      username: config.username,
      readyTimeout: config.readyTimeoutMs,
      // A black-holed server answers nothing, so pending operations would wait forever; three
      // unanswered keepalives end the connection and fail them.
      keepaliveInterval: Math.max(1000, (config.timeoutSeconds * 1000) / 3),
      keepaliveCountMax: 3,
      hostVerifier: (key: Buffer) => trusted.some((t) => t.equals(key)),
      ...auth,
    };
    const pool = new ConnectionPool<SftpClient>(
      config.connections,
      async () => {
        const client = new SftpClient('tresor');
        try {
          await client.connect(connectOptions);
        } catch (err) {
          await client.end().catch(() => undefined);
          throw err;
        }
        return client;
      },
      async (client) => {
        await client.end();
      },
    );
    const store = new SftpStore(pool, config, endpoint);
    await store.run(`cannot open ${store.location}`, (c) =>
      c.mkdir(posix.join(config.path, tempDirName), true),
    );
    return store;
  }

  async put(key: string, body: Readable | Uint8Array, options: PutOptions = {}): Promise<PutResult> {
    const doing = `cannot store object ${key} in ${this.location}`;
    try {
      this.checkKey(key);
      refuseRetention(options, this.location);
      const expected = normalizeExpectedSha256(options.expectedSha256);
      const target = this.pathOf(key);
      return await this.run(doing, async (client) => {
        // Cheap early refusal; the rename below is what actually guarantees no replacement.
        if ((await client.exists(target)) !== false) throw this.conflict(key);
        const temp = posix.join(this.config.path, tempDirName, randomUUID());
        try {
          const checked = hashChecked(body, expected, `object ${key} for ${this.location}`);
          const upload = client.createWriteStream(temp, { flags: 'wx', mode: 0o600 });
          upload.on('error', ignoreLateStreamError);
          await pipeline(checked, upload);
          await this.ensureParents(client, key);
          try {
            await client.rename(temp, target);
          } catch (err) {
            if ((await client.exists(target)) !== false) throw this.conflict(key);
            throw err;
          }
          return { size: checked.bytes, sha256: checked.sha256 };
        } finally {
          await client.delete(temp, true).catch(() => undefined);
        }
      });
    } catch (err) {
      if (body instanceof Readable && !body.destroyed) body.destroy();
      throw toSftpError(err, doing, this.endpoint);
    }
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    this.checkKey(key);
    validateByteRange(range);
    const doing = `cannot read object ${key} in ${this.location}`;
    return this.run(doing, async (client) => {
      const info = await this.stat(client, key);
      if (info === undefined) throw new NotFoundError(`object ${key} not found in ${this.location}`);
      const { start, end } = resolveRange(range, info.size, key, this.location);
      if (start === end) return Readable.from([], { objectMode: false });
      // The stream keeps using this connection after it returns to the pool; SFTP multiplexes requests.
      const stream = client.createReadStream(this.pathOf(key), { start, end: end - 1 }) as Readable;
      stream.on('error', ignoreLateStreamError);
      return stream;
    });
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    this.checkKey(key);
    return this.run(`cannot read object ${key} in ${this.location}`, (client) => this.stat(client, key));
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    validateKeyPrefix(prefix);
    const readDir = (dirKey: string): Promise<TreeItem[]> =>
      this.run(`cannot list ${dirKey || 'objects'} in ${this.location}`, async (client) => {
        const dir = dirKey === '' ? this.config.path : this.pathOf(dirKey);
        if ((await client.exists(dir)) !== 'd') return [];
        return (await client.list(dir))
          .filter((item) => item.type === 'd' || item.type === '-')
          .map((item) => ({
            name: item.name,
            isDir: item.type === 'd',
            size: item.size,
            modified: new Date(item.modifyTime),
          }));
      });
    yield* walkInKeyOrder(prefix, readDir, tempDirName);
  }

  async delete(key: string): Promise<void> {
    this.checkKey(key);
    await this.run(`cannot delete object ${key} in ${this.location}`, async (client) => {
      if ((await client.exists(this.pathOf(key))) === '-') await client.delete(this.pathOf(key), true);
    });
  }

  /** Closes the SSH connections. */
  async close(): Promise<void> {
    await this.pool.close();
  }

  /** Creates the directories above a key one level at a time, tolerating racing writers that create them too. */
  private async ensureParents(client: SftpClient, key: string): Promise<void> {
    const segments = key.split('/').slice(0, -1);
    if (segments.length === 0 || (await client.exists(this.pathOf(segments.join('/')))) === 'd') return;
    for (let i = 1; i <= segments.length; i++) {
      const dir = this.pathOf(segments.slice(0, i).join('/'));
      const kind = await client.exists(dir);
      if (kind === 'd') continue;
      if (kind !== false) {
        throw new ConflictError(`a parent of object key ${key} is an existing object in ${this.location}`);
      }
      try {
        await client.mkdir(dir);
      } catch (err) {
        if ((await client.exists(dir)) !== 'd') throw err;
      }
    }
  }

  private async stat(client: SftpClient, key: string): Promise<ObjectInfo | undefined> {
    if ((await client.exists(this.pathOf(key))) !== '-') return undefined;
    const stats = await client.stat(this.pathOf(key));
    return { key, size: stats.size, modified: new Date(stats.modifyTime) };
  }

  private async run<T>(doing: string, work: (client: SftpClient) => Promise<T>): Promise<T> {
    try {
      return await this.pool.use(work, isConnectionError);
    } catch (err) {
      throw toSftpError(err, doing, this.endpoint);
    }
  }

  private checkKey(key: string): void {
    validateObjectKey(key);
    if (key === tempDirName || key.startsWith(`${tempDirName}/`)) {
      throw new UsageError(
        `object key ${key} is reserved: ${tempDirName}/ holds the SFTP backend's temporary files`,
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

/**
 * ssh2's SFTP streams emit 'error' straight from request callbacks, even after they were destroyed;
 * a read still in flight when its connection closes ("No response from server") would then crash
 * the process. Consumers still see every error through their own listeners; this one only keeps a
 * late error on an abandoned stream from becoming an uncaught exception.
 */
function ignoreLateStreamError(): void {}

/** Errors after which the SSH connection cannot be trusted for the next operation. */
function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return code === 'ERR_NOT_CONNECTED' || code === 'ECONNRESET' || code === 'ERR_GENERIC_CLIENT';
}
