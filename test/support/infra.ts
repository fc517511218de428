/**
 * Test infrastructure for Tresor's integration tests: where the real servers are and isolated
 * resources on them, each with a cleanup.
 *
 * Endpoints and credentials come from `test/infra/.env` (written by `test/infra/up`); any
 * variable set in the environment overrides the file, so tests can be pointed at other servers
 * (for example `TRESOR_TEST_MONGODB_URL` at a real MongoDB replica set). See docs/testing.md.
 *
 * A missing or unreachable server makes the calling test fail with an `InfraUnavailableError`
 * naming the server and `test/infra/up`. Nothing here ever skips a test.
 *
 * Client libraries are loaded lazily, so a test only pays for the clients it uses.
 */
import { existsSync, readFileSync, readdirSync, statSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect as netConnect, createServer as netCreateServer, isIP, type AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import type { ContainerClient } from '@azure/storage-blob';
import type { Bucket, StorageOptions } from '@google-cloud/storage';
import type { Redis, RedisOptions } from 'ioredis';
import type { Db, MongoClient } from 'mongodb';
import type { NatsConnection } from '@nats-io/transport-node';
import type SftpClient from 'ssh2-sftp-client';
import type { AccessOptions } from 'basic-ftp';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** Where `test/infra/up` writes endpoints and credentials. */
export const INFRA_ENV_FILE = join(REPO_ROOT, 'test/infra/.env');

/** The servers tests can ask for, with the name used in error messages. */
export const SERVER_LABELS = {
  nats: 'NATS JetStream',
  'nats-aux': 'NATS JetStream (own instance)',
  redis: 'Redis',
  mongodb: 'MongoDB-wire server (FerretDB)',
  s3: 'S3 (MinIO)',
  azure: 'Azure Blob (Azurite)',
  gcs: 'GCS (fake-gcs-server)',
  ldap: 'LDAP (OpenLDAP slapd)',
  pkcs11: 'PKCS#11 HSM (SoftHSM2)',
  kms: 'AWS KMS (local-kms)',
  sftp: 'SFTP (OpenSSH)',
  ftp: 'FTPS (vsftpd)',
  smtp: 'SMTP sink',
} as const;
export type ServerName = keyof typeof SERVER_LABELS;

/** Thrown when a server a test needs is not configured or not reachable. */
export class InfraUnavailableError extends Error {
  override readonly name = 'InfraUnavailableError';
  constructor(
    readonly server: ServerName,
    detail: string,
  ) {
    super(
      `${SERVER_LABELS[server]} is not available: ${detail}. ` +
        'Start the test servers with `test/infra/up` (after `npm ci`), or point the tests at your own ' +
        'server with the TRESOR_TEST_* variables described in docs/testing.md.',
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Configuration

function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const t = line.trim();
    if (!t || t.startsWith('#')) continue;
    const eq = t.indexOf('=');
    if (eq <= 0) continue;
    out[t.slice(0, eq).trim()] = t.slice(eq + 1);
  }
  return out;
}

let envCache: Readonly<Record<string, string>> | undefined;

/**
 * The merged test configuration: `test/infra/.env`, overridden per variable by the process
 * environment (`TRESOR_TEST_*`). Read once per process.
 */
export function infraEnv(): Readonly<Record<string, string>> {
  if (!envCache) {
    const file = existsSync(INFRA_ENV_FILE) ? parseEnvFile(readFileSync(INFRA_ENV_FILE, 'utf8')) : {};
    const merged: Record<string, string> = { ...file };
    for (const [k, v] of Object.entries(process.env)) {
      if (k.startsWith('TRESOR_TEST_') && v !== undefined) merged[k] = v;
    }
    envCache = Object.freeze(merged);
  }
  return envCache;
}

/** A required configuration value; throws `InfraUnavailableError` naming the server if unset. */
export function need(server: ServerName, key: string): string {
  const value = infraEnv()[key];
  if (value === undefined || value === '') {
    const where = existsSync(INFRA_ENV_FILE)
      ? `${key} is neither in ${INFRA_ENV_FILE} nor in the environment`
      : `${key} is not set and ${INFRA_ENV_FILE} does not exist (test/infra/up writes it)`;
    throw new InfraUnavailableError(server, where);
  }
  return value;
}

function optional(key: string): string | undefined {
  const v = infraEnv()[key];
  return v === undefined || v === '' ? undefined : v;
}

function readFileFor(server: ServerName, key: string): Buffer {
  const path = need(server, key);
  try {
    return readFileSync(path);
  } catch (err) {
    throw new InfraUnavailableError(server, `${key}=${path} cannot be read (${(err as Error).message})`);
  }
}

/** Fails with `InfraUnavailableError` unless a TCP connection to host:port opens within 3 s. */
export async function assertReachable(server: ServerName, host: string, port: number): Promise<void> {
  await new Promise<void>((resolvePromise, reject) => {
    const socket = netConnect({ host, port });
    const fail = (why: string): void => {
      socket.destroy();
      reject(new InfraUnavailableError(server, `nothing answers at ${host}:${port} (${why})`));
    };
    socket.setTimeout(3000, () => fail('timed out after 3 s'));
    socket.once('error', (err: NodeJS.ErrnoException) => fail(err.code ?? err.message));
    socket.once('connect', () => {
      socket.destroy();
      resolvePromise();
    });
  });
}

async function assertUrlReachable(server: ServerName, url: string, defaultPort: number): Promise<void> {
  const u = new URL(url);
  await assertReachable(server, u.hostname.replace(/^\[|\]$/g, ''), Number(u.port || defaultPort));
}

// ---------------------------------------------------------------------------------------------
// Unique names

/** Identifies this test process; part of every resource name, so parallel runs never collide. */
export const RUN_ID = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
let counter = 0;

/** A fresh lowercase name `t-<run>-<n>` (valid as S3/GCS bucket, Azure container, path segment). */
export function uniqueName(prefix = 't'): string {
  counter += 1;
  return `${prefix}-${RUN_ID}-${counter}`;
}

/** Something that must be cleaned up after the test. Cleanup is idempotent. */
export interface Cleanup {
  cleanup(): Promise<void>;
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= fn());
}

// ---------------------------------------------------------------------------------------------
// NATS JetStream

export interface NatsScope extends Cleanup {
  /** Server URL(s) for `connect({ servers })`. */
  servers: string;
  /** Subject prefix reserved for this test, e.g. `t.<run>.<n>`; use `${prefix}.work.x`. */
  subjectPrefix: string;
  /** Stream/consumer/KV name prefix reserved for this test (uppercase, no dots). */
  namePrefix: string;
  /** A connection for the test's own use; closed by cleanup. */
  connect(): Promise<NatsConnection>;
}

/**
 * A JetStream namespace on the shared NATS server: cleanup deletes every stream (including KV and
 * object-store buckets) whose name starts with `namePrefix`, and closes connections from `connect()`.
 * `which: 'aux'` uses the own instance that `up` starts (TRESOR_TEST_NATS_AUX_URL).
 */
export async function natsScope(opts: { which?: 'main' | 'aux' } = {}): Promise<NatsScope> {
  const server: ServerName = opts.which === 'aux' ? 'nats-aux' : 'nats';
  const servers = need(server, opts.which === 'aux' ? 'TRESOR_TEST_NATS_AUX_URL' : 'TRESOR_TEST_NATS_URL');
  for (const s of servers.split(',')) await assertUrlReachable(server, s.trim(), 4222);
  const id = uniqueName('t');
  const namePrefix = id.replace(/-/g, '_').toUpperCase();
  const subjectPrefix = id.replace(/-/g, '.');
  const { connect } = await import('@nats-io/transport-node');
  const opened: NatsConnection[] = [];
  return {
    servers,
    subjectPrefix,
    namePrefix,
    async connect() {
      const nc = await connect({ servers: servers.split(','), name: `tresor-test ${id}` });
      opened.push(nc);
      return nc;
    },
    cleanup: once(async () => {
      const { jetstreamManager } = await import('@nats-io/jetstream');
      const nc = await connect({ servers: servers.split(',') });
      try {
        const jsm = await jetstreamManager(nc);
        const names: string[] = [];
        for await (const name of jsm.streams.names()) names.push(name);
        for (const name of names) {
          if ([namePrefix, `KV_${namePrefix}`, `OBJ_${namePrefix}`].some((p) => name.startsWith(p))) {
            await jsm.streams.delete(name);
          }
        }
      } finally {
        await nc.close();
        await Promise.all(opened.map((c) => (c.isClosed() ? undefined : c.close())));
      }
    }),
  };
}

export interface OwnNatsServer {
  url: string;
  port: number;
  pid: number;
  /** JetStream store directory (kept across restart(), removed by stop()). */
  storeDir: string;
  /** SIGKILL now (a crash), without cleanup; restart() brings it back with the same store. */
  kill(): void;
  /** Start again on the same port and store after kill(). */
  restart(): Promise<void>;
  /** Stop it and delete its store. */
  stop(): Promise<void>;
}

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const srv = netCreateServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolvePromise(port));
    });
  });
}

async function waitForPort(
  port: number,
  timeoutMs: number,
  child: ChildProcess,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`${what} exited with code ${child.exitCode} before listening on ${port}`);
    try {
      await assertReachable('nats-aux', '127.0.0.1', port);
      return;
    } catch {
      if (Date.now() > deadline)
        throw new Error(`${what} did not listen on 127.0.0.1:${port} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/**
 * Starts a private nats-server with JetStream on a free loopback port, for fault tests that kill
 * and restart the bus. The binary is TRESOR_TEST_NATS_SERVER_BIN (written by test/infra/up).
 * `configFile` (with `env` for the variables it references) adds e.g. an authorization block.
 */
export async function startOwnNatsServer(opts: { configFile?: string; env?: Record<string, string> } = {}): Promise<OwnNatsServer> {
  const bin = need('nats-aux', 'TRESOR_TEST_NATS_SERVER_BIN');
  if (!existsSync(bin))
    throw new InfraUnavailableError('nats-aux', `nats-server binary ${bin} does not exist`);
  const port = await freePort();
  const storeDir = mkdtempSync(join(tmpdir(), 'tresor-nats-'));
  let child: ChildProcess;
  const start = async (): Promise<void> => {
    const config = opts.configFile ? ['-c', opts.configFile] : [];
    child = spawn(bin, [...config, '-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir], { stdio: 'ignore', env: { ...process.env, ...opts.env } });
    await waitForPort(port, 10_000, child, `nats-server (${bin})`);
  };
  await start();
  const self: OwnNatsServer = {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    get pid() {
      return child.pid ?? -1;
    },
    kill() {
      child.kill('SIGKILL');
    },
    async restart() {
      if (child.exitCode === null && child.signalCode === null) {
        await new Promise<void>((r) => {
          child.once('exit', () => r());
          child.kill('SIGTERM');
        });
      }
      await start();
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        await new Promise<void>((r) => {
          child.once('exit', () => r());
          child.kill('SIGTERM');
        });
      }
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
  return self;
}

export interface OwnFerretDb {
  /** `mongodb://127.0.0.1:<port>/` */
  url: string;
  port: number;
  /** Its own PostgreSQL database (kept across restart(), dropped by stop()). */
  pgDatabase: string;
  /** Stop (SIGTERM) and start again on the same port and PostgreSQL database. */
  restart(): Promise<void>;
  /** Stop it and drop its PostgreSQL database. */
  stop(): Promise<void>;
}

/** The FerretDB wrapper test/infra/up built: TRESOR_TEST_FERRETDB_BIN, else the newest in the infra cache. */
function ferretDbBinary(): string {
  const configured = optional('TRESOR_TEST_FERRETDB_BIN');
  if (configured) {
    if (!existsSync(configured)) throw new InfraUnavailableError('mongodb', `FerretDB binary ${configured} does not exist`);
    return configured;
  }
  const bin = join(process.env.TRESOR_INFRA_CACHE ?? '/var/cache/tresor-infra', 'bin');
  const candidates = existsSync(bin)
    ? readdirSync(bin)
        .filter((d) => d.startsWith('tresor-ferretdb@'))
        .map((d) => join(bin, d, 'tresor-ferretdb'))
        .filter((f) => existsSync(f))
        .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)
    : [];
  if (!candidates[0]) throw new InfraUnavailableError('mongodb', `no FerretDB wrapper built under ${bin} (test/infra/up ferretdb builds it)`);
  return candidates[0];
}

function psql(url: string, sql: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('psql', [url, '-v', 'ON_ERROR_STOP=1', '-qc', sql], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolvePromise() : reject(new Error(`psql ${sql}: ${err.trim()}`))));
  });
}

/**
 * Starts a private FerretDB (the wrapper test/infra/up builds) on a free loopback port, backed by
 * a fresh database on the test PostgreSQL, for fault tests that restart the MongoDB-wire server.
 */
export async function startOwnFerretDb(): Promise<OwnFerretDb> {
  const bin = ferretDbBinary();
  const pgUrl = new URL(need('mongodb', 'TRESOR_TEST_POSTGRES_URL'));
  const pgDatabase = `tresor_ferretdb_${uniqueName('t').replace(/-/g, '_')}`.toLowerCase();
  const admin = new URL(pgUrl);
  admin.pathname = '/postgres';
  try {
    await psql(admin.toString(), `create database ${pgDatabase}`);
  } catch (err) {
    throw new InfraUnavailableError('mongodb', `cannot create PostgreSQL database for a private FerretDB (${(err as Error).message})`);
  }
  const backend = new URL(pgUrl);
  backend.pathname = `/${pgDatabase}`;
  const port = await freePort();
  let child: ChildProcess;
  const start = async (): Promise<void> => {
    child = spawn(bin, ['-listen-addr', `127.0.0.1:${port}`, '-postgresql-url', backend.toString(), '-log-level', 'warn'], { stdio: 'ignore' });
    await waitForPort(port, 15_000, child, `FerretDB (${bin})`);
  };
  const halt = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((r) => {
        child.once('exit', () => r());
        child.kill('SIGTERM');
      });
    }
  };
  try {
    await start();
  } catch (err) {
    await psql(admin.toString(), `drop database if exists ${pgDatabase} with (force)`).catch(() => undefined);
    throw err;
  }
  return {
    url: `mongodb://127.0.0.1:${port}/`,
    port,
    pgDatabase,
    async restart() {
      await halt();
      await start();
    },
    async stop() {
      await halt();
      await psql(admin.toString(), `drop database if exists ${pgDatabase} with (force)`);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Redis

export interface RedisScope extends Cleanup {
  url: string;
  /** Key prefix reserved for this test, e.g. `tresor-test:<run>:<n>:`. */
  keyPrefix: string;
  /** ioredis options that apply the prefix (`keyPrefix`). */
  options: RedisOptions;
  /** A client with the prefix applied; closed by cleanup. */
  client(): Promise<Redis>;
}

/** A key namespace on the shared Redis; cleanup deletes every key under the prefix. */
export async function redisScope(): Promise<RedisScope> {
  const url = need('redis', 'TRESOR_TEST_REDIS_URL');
  await assertUrlReachable('redis', url, 6379);
  const keyPrefix = `tresor-test:${uniqueName('t')}:`;
  const { Redis } = await import('ioredis');
  const clients: Redis[] = [];
  const options: RedisOptions = { keyPrefix, lazyConnect: false, maxRetriesPerRequest: 2 };
  return {
    url,
    keyPrefix,
    options,
    async client() {
      const c = new Redis(url, options);
      clients.push(c);
      return c;
    },
    cleanup: once(async () => {
      const admin = new Redis(url, { maxRetriesPerRequest: 2 });
      try {
        let cursor = '0';
        do {
          const [next, keys] = await admin.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 500);
          cursor = next;
          if (keys.length) await admin.del(...keys);
        } while (cursor !== '0');
      } finally {
        admin.disconnect();
        for (const c of clients) c.disconnect();
      }
    }),
  };
}

// ---------------------------------------------------------------------------------------------
// MongoDB wire protocol (FerretDB locally)

export interface MongoScope extends Cleanup {
  url: string;
  dbName: string;
  /** 'ferretdb' or 'mongodb', detected from the server's buildInfo. */
  flavor: 'ferretdb' | 'mongodb';
  /** True for a MongoDB replica set (transactions, change streams); false on FerretDB v1. */
  replicaSet: boolean;
  client: MongoClient;
  db: Db;
}

/** A fresh database; cleanup drops it and closes the client. */
export async function mongoDatabase(): Promise<MongoScope> {
  const url = need('mongodb', 'TRESOR_TEST_MONGODB_URL');
  const { MongoClient } = await import('mongodb');
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 5000 });
  try {
    await client.connect();
  } catch (err) {
    await client.close().catch(() => undefined);
    throw new InfraUnavailableError('mongodb', `cannot connect to ${url} (${(err as Error).message})`);
  }
  const admin = client.db('admin');
  const info = await admin.command({ buildInfo: 1 });
  const hello = await admin.command({ hello: 1 });
  const dbName = `tresor_${uniqueName('t').replace(/-/g, '_')}`;
  const db = client.db(dbName);
  return {
    url,
    dbName,
    flavor: 'ferretdbVersion' in info ? 'ferretdb' : 'mongodb',
    replicaSet: typeof hello.setName === 'string',
    client,
    db,
    cleanup: once(async () => {
      try {
        await db.dropDatabase();
      } finally {
        await client.close();
      }
    }),
  };
}

// ---------------------------------------------------------------------------------------------
// S3 (MinIO locally)

/** S3 client configuration for the test server (path-style, static credentials). */
export function s3Config(): S3ClientConfig & { endpoint: string } {
  return {
    endpoint: need('s3', 'TRESOR_TEST_S3_ENDPOINT'),
    region: optional('TRESOR_TEST_S3_REGION') ?? 'us-east-1',
    forcePathStyle: (optional('TRESOR_TEST_S3_FORCE_PATH_STYLE') ?? 'true') === 'true',
    credentials: {
      accessKeyId: need('s3', 'TRESOR_TEST_S3_ACCESS_KEY_ID'),
      secretAccessKey: need('s3', 'TRESOR_TEST_S3_SECRET_ACCESS_KEY'),
    },
  };
}

export interface S3Bucket extends Cleanup {
  bucket: string;
  config: S3ClientConfig & { endpoint: string };
  client: S3Client;
  objectLock: boolean;
}

/**
 * A fresh bucket (with object lock, hence versioning, if asked). Cleanup deletes every version
 * (bypassing GOVERNANCE retention) and the bucket. Objects under COMPLIANCE retention cannot be
 * deleted by anyone until it expires: cleanup then leaves the bucket and says so on stderr
 * (`test/infra/down --purge` wipes it locally). Prefer GOVERNANCE or short retention in tests.
 */
export async function s3Bucket(opts: { objectLock?: boolean } = {}): Promise<S3Bucket> {
  const config = s3Config();
  await assertUrlReachable('s3', config.endpoint, 443);
  const s3 = await import('@aws-sdk/client-s3');
  const client = new s3.S3Client(config);
  const bucket = uniqueName('t');
  const objectLock = opts.objectLock ?? false;
  try {
    await client.send(new s3.CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: objectLock }));
  } catch (err) {
    client.destroy();
    throw new InfraUnavailableError(
      's3',
      `CreateBucket ${bucket} at ${config.endpoint} failed (${(err as Error).message})`,
    );
  }
  return {
    bucket,
    config,
    client,
    objectLock,
    cleanup: once(async () => {
      try {
        let keyMarker: string | undefined;
        let versionIdMarker: string | undefined;
        let leftovers = 0;
        for (;;) {
          const page = await client.send(
            new s3.ListObjectVersionsCommand({
              Bucket: bucket,
              KeyMarker: keyMarker,
              VersionIdMarker: versionIdMarker,
            }),
          );
          const items = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])];
          for (const v of items) {
            try {
              await client.send(
                new s3.DeleteObjectCommand({
                  Bucket: bucket,
                  Key: v.Key,
                  VersionId: v.VersionId,
                  BypassGovernanceRetention: true,
                }),
              );
            } catch {
              leftovers += 1;
            }
          }
          if (!page.IsTruncated) break;
          keyMarker = page.NextKeyMarker;
          versionIdMarker = page.NextVersionIdMarker;
        }
        if (leftovers) {
          process.stderr.write(
            `[infra] s3 bucket ${bucket} kept: ${leftovers} object version(s) still under retention\n`,
          );
          return;
        }
        await client.send(new s3.DeleteBucketCommand({ Bucket: bucket }));
      } finally {
        client.destroy();
      }
    }),
  };
}

// ---------------------------------------------------------------------------------------------
// Azure Blob (Azurite locally)

export interface AzureContainer extends Cleanup {
  connectionString: string;
  containerName: string;
  container: ContainerClient;
}

/** A fresh blob container; cleanup deletes it. */
export async function azureContainer(): Promise<AzureContainer> {
  const connectionString = need('azure', 'TRESOR_TEST_AZURE_CONNECTION_STRING');
  const endpoint = /BlobEndpoint=([^;]+)/i.exec(connectionString)?.[1];
  if (endpoint) await assertUrlReachable('azure', endpoint, 443);
  const { BlobServiceClient } = await import('@azure/storage-blob');
  const service = BlobServiceClient.fromConnectionString(connectionString);
  const containerName = uniqueName('t');
  const container = service.getContainerClient(containerName);
  await container.create();
  return {
    connectionString,
    containerName,
    container,
    cleanup: once(async () => {
      await container.deleteIfExists();
    }),
  };
}

// ---------------------------------------------------------------------------------------------
// Google Cloud Storage (fake-gcs-server locally)

/** @google-cloud/storage options for the test server (no credentials, custom endpoint). */
export function gcsOptions(): StorageOptions {
  return {
    apiEndpoint: need('gcs', 'TRESOR_TEST_GCS_ENDPOINT'),
    projectId: optional('TRESOR_TEST_GCS_PROJECT') ?? 'tresor-test',
    // With a custom apiEndpoint the library sends no credentials unless a key file is given.
    ...(optional('TRESOR_TEST_GCS_KEY_FILE')
      ? { keyFilename: optional('TRESOR_TEST_GCS_KEY_FILE'), useAuthWithCustomEndpoint: true }
      : {}),
  };
}

export interface GcsBucket extends Cleanup {
  bucketName: string;
  options: StorageOptions;
  bucket: Bucket;
}

/** A fresh bucket; cleanup deletes its objects and the bucket. */
export async function gcsBucket(): Promise<GcsBucket> {
  const options = gcsOptions();
  await assertUrlReachable('gcs', options.apiEndpoint as string, 443);
  const { Storage } = await import('@google-cloud/storage');
  const storage = new Storage(options);
  const bucketName = uniqueName('t');
  const [bucket] = await storage.createBucket(bucketName);
  return {
    bucketName,
    options,
    bucket,
    cleanup: once(async () => {
      await bucket.deleteFiles({ force: true });
      await bucket.delete({ ignoreNotFound: true });
    }),
  };
}

// ---------------------------------------------------------------------------------------------
// LDAP (OpenLDAP slapd locally)

export type LdapRole = 'admin' | 'operator' | 'auditor' | 'custodian' | 'viewer';
export interface LdapUser {
  uid: string;
  dn: string;
  password: string;
  mail: string;
}
export interface LdapFixture {
  url: string;
  baseDn: string;
  peopleDn: string;
  groupsDn: string;
  adminDn: string;
  adminPassword: string;
  /** groupOfNames DN per role: cn=tresor-admins, -operators, -auditors, -custodians, -viewers. */
  groups: Record<LdapRole, string>;
  users: {
    admin: LdapUser;
    operator: LdapUser;
    auditor: LdapUser;
    /** Three custodians, so dual control can get two approvals besides a requester. */
    custodians: [LdapUser, LdapUser, LdapUser];
    viewer: LdapUser;
    /** An operator who requests restores (not a custodian). */
    requester: LdapUser;
    /** Member of tresor-operators with an administrative lock (ppolicy pwdAccountLockedTime): bind fails. */
    locked: LdapUser;
  };
}

/**
 * The read-only directory fixture loaded by test/infra/up under dc=tresor,dc=test. Do not change
 * it from tests; use `ldapSubtree()` for entries a test creates.
 */
export function ldapFixture(): LdapFixture {
  const url = need('ldap', 'TRESOR_TEST_LDAP_URL');
  const baseDn = need('ldap', 'TRESOR_TEST_LDAP_BASE_DN');
  const password = need('ldap', 'TRESOR_TEST_LDAP_USER_PASSWORD');
  const peopleDn = `ou=people,${baseDn}`;
  const groupsDn = `ou=groups,${baseDn}`;
  const user = (uid: string): LdapUser => ({
    uid,
    dn: `uid=${uid},${peopleDn}`,
    password,
    mail: `${uid}@tresor.test`,
  });
  const group = (cn: string): string => `cn=${cn},${groupsDn}`;
  return {
    url,
    baseDn,
    peopleDn,
    groupsDn,
    adminDn: need('ldap', 'TRESOR_TEST_LDAP_ADMIN_DN'),
    adminPassword: need('ldap', 'TRESOR_TEST_LDAP_ADMIN_PASSWORD'),
    groups: {
      admin: group('tresor-admins'),
      operator: group('tresor-operators'),
      auditor: group('tresor-auditors'),
      custodian: group('tresor-custodians'),
      viewer: group('tresor-viewers'),
    },
    users: {
      admin: user('ada.admin'),
      operator: user('oscar.operator'),
      auditor: user('aude.auditor'),
      custodians: [user('carla.custodian'), user('colin.custodian'), user('cora.custodian')],
      viewer: user('vera.viewer'),
      requester: user('rita.requester'),
      locked: user('lou.locked'),
    },
  };
}

/**
 * The gateway settings that bind to the test directory and find users under ou=people; each test
 * adds its own TRESOR_AUTH_GROUP_MAP (the roles it needs differ on purpose). `url` overrides the
 * directory's address (a fault proxy in front of it).
 */
export function ldapBindEnv(url?: string): Record<string, string> {
  const fx = ldapFixture();
  return {
    TRESOR_LDAP_URL: url ?? fx.url,
    TRESOR_LDAP_BIND_DN: fx.adminDn,
    TRESOR_LDAP_BIND_PASSWORD: fx.adminPassword,
    TRESOR_LDAP_USER_BASE: fx.peopleDn,
  };
}

export interface LdapSubtree extends Cleanup {
  fixture: LdapFixture;
  /** `ou=<unique>,<baseDn>`: create the test's own users and groups below it (as adminDn). */
  dn: string;
}

/** A fresh organizationalUnit under the base DN; cleanup deletes it with everything below. */
export async function ldapSubtree(): Promise<LdapSubtree> {
  const fixture = ldapFixture();
  await assertUrlReachable('ldap', fixture.url, 389);
  const { Client } = await import('ldapts');
  const ou = uniqueName('t');
  const dn = `ou=${ou},${fixture.baseDn}`;
  const client = new Client({ url: fixture.url, timeout: 5000, connectTimeout: 3000 });
  try {
    await client.bind(fixture.adminDn, fixture.adminPassword);
    await client.add(dn, { objectClass: ['organizationalUnit'], ou });
  } finally {
    await client.unbind();
  }
  return {
    fixture,
    dn,
    cleanup: once(async () => {
      const c = new Client({ url: fixture.url, timeout: 5000, connectTimeout: 3000 });
      try {
        await c.bind(fixture.adminDn, fixture.adminPassword);
        const { searchEntries } = await c.search(dn, { scope: 'sub', attributes: ['1.1'] });
        // Deepest entries first.
        const dns = searchEntries.map((e) => e.dn).sort((a, b) => b.split(',').length - a.split(',').length);
        for (const d of dns) await c.del(d);
      } finally {
        await c.unbind();
      }
    }),
  };
}

// ---------------------------------------------------------------------------------------------
// PKCS#11 (SoftHSM2 locally)

export interface HsmToken extends Cleanup {
  /** Path of the PKCS#11 module to load. */
  module: string;
  tokenLabel: string;
  pin: string;
  soPin?: string;
  /** A CKA_LABEL reserved for this test's objects; cleanup destroys objects with this label. */
  keyLabel: string;
}

/**
 * The test token. Sets SOFTHSM2_CONF for this process (from TRESOR_TEST_SOFTHSM2_CONF) before the
 * module is loaded, so SoftHSM finds the token that test/infra/up initialised.
 */
export function hsmToken(): HsmToken {
  const module = need('pkcs11', 'TRESOR_TEST_PKCS11_MODULE');
  if (!existsSync(module))
    throw new InfraUnavailableError('pkcs11', `PKCS#11 module ${module} does not exist`);
  const conf = optional('TRESOR_TEST_SOFTHSM2_CONF');
  if (conf) {
    if (!existsSync(conf))
      throw new InfraUnavailableError('pkcs11', `SoftHSM configuration ${conf} does not exist`);
    process.env.SOFTHSM2_CONF = conf;
  }
  const tokenLabel = need('pkcs11', 'TRESOR_TEST_PKCS11_TOKEN_LABEL');
  const pin = need('pkcs11', 'TRESOR_TEST_PKCS11_PIN');
  const keyLabel = uniqueName('t');
  return {
    module,
    tokenLabel,
    pin,
    soPin: optional('TRESOR_TEST_PKCS11_SO_PIN'),
    keyLabel,
    cleanup: once(async () => {
      const pkcs11js = (await import('pkcs11js')).default;
      const p11 = new pkcs11js.PKCS11();
      p11.load(module);
      let initialisedHere = false;
      try {
        p11.C_Initialize();
        initialisedHere = true;
      } catch (err) {
        if (!String((err as Error).message).includes('CKR_CRYPTOKI_ALREADY_INITIALIZED')) throw err;
      }
      try {
        const slot = p11.C_GetSlotList(true).find((s) => p11.C_GetTokenInfo(s).label.trim() === tokenLabel);
        if (!slot) return;
        const session = p11.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
        try {
          try {
            p11.C_Login(session, pkcs11js.CKU_USER, pin);
          } catch (err) {
            if (!String((err as Error).message).includes('CKR_USER_ALREADY_LOGGED_IN')) throw err;
          }
          p11.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_LABEL, value: keyLabel }]);
          const handles = [];
          for (let h = p11.C_FindObjects(session); h; h = p11.C_FindObjects(session)) handles.push(h);
          p11.C_FindObjectsFinal(session);
          for (const h of handles) p11.C_DestroyObject(session, h);
        } finally {
          p11.C_CloseSession(session);
        }
      } finally {
        if (initialisedHere) p11.C_Finalize();
      }
    }),
  };
}

// ---------------------------------------------------------------------------------------------
// AWS KMS (local-kms locally)

export interface KmsKey extends Cleanup {
  endpoint: string;
  region: string;
  /** Static credentials (local-kms does not check them; a real account's come from the environment). */
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** ARN of a fresh symmetric key (SYMMETRIC_DEFAULT) for this test; cleanup schedules its deletion. */
  keyArn: string;
}

/** A fresh KMS key on the test endpoint (TRESOR_TEST_AWS_KMS_ENDPOINT / _REGION). */
export async function kmsKey(): Promise<KmsKey> {
  const endpoint = need('kms', 'TRESOR_TEST_AWS_KMS_ENDPOINT');
  const region = need('kms', 'TRESOR_TEST_AWS_KMS_REGION');
  await assertUrlReachable('kms', endpoint, 443);
  const credentials = {
    accessKeyId: optional('TRESOR_TEST_AWS_KMS_ACCESS_KEY_ID') ?? 'tresor-test',
    secretAccessKey: optional('TRESOR_TEST_AWS_KMS_SECRET_ACCESS_KEY') ?? 'tresor-test',
  };
  const kms = await import('@aws-sdk/client-kms');
  const client = new kms.KMSClient({ endpoint, region, credentials });
  let keyArn: string;
  try {
    const created = await client.send(new kms.CreateKeyCommand({ Description: uniqueName('tresor-test') }));
    keyArn = created.KeyMetadata!.Arn!;
  } catch (err) {
    client.destroy();
    throw new InfraUnavailableError('kms', `CreateKey at ${endpoint} failed (${(err as Error).message})`);
  }
  return {
    endpoint,
    region,
    credentials,
    keyArn,
    cleanup: once(async () => {
      try {
        await client.send(new kms.ScheduleKeyDeletionCommand({ KeyId: keyArn, PendingWindowInDays: 7 }));
      } catch {
        // Already scheduled or deleted by the test.
      } finally {
        client.destroy();
      }
    }),
  };
}

// ---------------------------------------------------------------------------------------------
// SFTP (OpenSSH locally)

export interface SftpDir extends Cleanup {
  host: string;
  port: number;
  username: string;
  privateKey: Buffer;
  /** The server's public host key, `ssh-ed25519 AAAA...` (verify it, do not skip the check). */
  hostKey: string;
  /** ssh2-sftp-client connection options with key auth and strict host-key verification. */
  connectConfig: SftpClient.ConnectOptions;
  /** A fresh, empty directory (absolute path on the server) for this test. */
  dir: string;
}

/** A fresh directory on the SFTP server; cleanup removes it recursively. */
export async function sftpDir(): Promise<SftpDir> {
  const host = need('sftp', 'TRESOR_TEST_SFTP_HOST');
  const port = Number(need('sftp', 'TRESOR_TEST_SFTP_PORT'));
  const username = need('sftp', 'TRESOR_TEST_SFTP_USER');
  const root = need('sftp', 'TRESOR_TEST_SFTP_ROOT');
  const privateKey = readFileFor('sftp', 'TRESOR_TEST_SFTP_PRIVATE_KEY_FILE');
  const hostKey = readFileFor('sftp', 'TRESOR_TEST_SFTP_HOST_KEY_FILE')
    .toString('utf8')
    .trim()
    .split(/\s+/)
    .slice(0, 2)
    .join(' ');
  await assertReachable('sftp', host, port);
  const expected = Buffer.from(hostKey.split(' ')[1] ?? '', 'base64');
  const connectConfig: SftpClient.ConnectOptions = {
    host,
    port,
    username,
    privateKey,
    readyTimeout: 10_000,
    hostVerifier: (key: Buffer) => key.equals(expected),
  };
  const dir = `${root.replace(/\/+$/, '')}/${uniqueName('t')}`;
  const { default: Sftp } = await import('ssh2-sftp-client');
  const sftp = new Sftp();
  try {
    await sftp.connect(connectConfig);
    await sftp.mkdir(dir, true);
  } finally {
    await sftp.end();
  }
  return {
    host,
    port,
    username,
    privateKey,
    hostKey,
    connectConfig,
    dir,
    cleanup: once(async () => {
      const c = new Sftp();
      try {
        await c.connect(connectConfig);
        if (await c.exists(dir)) await c.rmdir(dir, true);
      } finally {
        await c.end();
      }
    }),
  };
}

// ---------------------------------------------------------------------------------------------
// FTP with explicit TLS (vsftpd locally)

export interface FtpDir extends Cleanup {
  /** basic-ftp `access()` options: explicit FTPS, certificate checked against the test CA. */
  access: AccessOptions;
  /** A fresh, empty directory (absolute path on the server) for this test. */
  dir: string;
}

/** A fresh directory on the FTPS server; cleanup removes it recursively. */
export async function ftpDir(): Promise<FtpDir> {
  const host = need('ftp', 'TRESOR_TEST_FTP_HOST');
  const port = Number(need('ftp', 'TRESOR_TEST_FTP_PORT'));
  const secureMode = optional('TRESOR_TEST_FTP_SECURE') ?? 'explicit';
  const ca = optional('TRESOR_TEST_TLS_CA_FILE');
  await assertReachable('ftp', host, port);
  const access: AccessOptions = {
    host,
    port,
    user: need('ftp', 'TRESOR_TEST_FTP_USER'),
    password: need('ftp', 'TRESOR_TEST_FTP_PASSWORD'),
    secure: secureMode === 'implicit' ? 'implicit' : secureMode === 'none' ? false : true,
    secureOptions: { ...(ca ? { ca: readFileSync(ca) } : {}), ...(isIP(host) ? {} : { servername: host }) },
  };
  const root = optional('TRESOR_TEST_FTP_ROOT') ?? '';
  const dir = `${root.replace(/\/+$/, '')}/${uniqueName('t')}`;
  const { Client } = await import('basic-ftp');
  const client = new Client(15_000);
  try {
    await client.access(access);
    await client.ensureDir(dir);
  } finally {
    client.close();
  }
  return {
    access,
    dir,
    cleanup: once(async () => {
      const c = new Client(15_000);
      try {
        await c.access(access);
        await c.removeDir(dir);
      } finally {
        c.close();
      }
    }),
  };
}

// ---------------------------------------------------------------------------------------------
// SMTP sink

export interface SinkMail {
  id: string;
  receivedAt: string;
  envelope: { from: string | null; to: string[] };
  secure: boolean;
  user: string | null;
  messageId: string | null;
  subject: string;
  from: string;
  to: string;
  text: string;
  html: string;
  headers: Record<string, string>;
  attachments: { filename: string | null; contentType: string; size: number }[];
}

export interface SmtpMailbox extends Cleanup {
  host: string;
  port: number;
  /** PEM of the CA that signs the sink's STARTTLS certificate, if any. */
  ca?: Buffer;
  /** A recipient address reserved for this test. */
  address: string;
  /** Messages received for `address`, oldest first. */
  messages(): Promise<SinkMail[]>;
  /** Waits until at least `count` messages arrived for `address` (default 1). */
  waitForMessages(count?: number, timeoutMs?: number): Promise<SinkMail[]>;
}

/** A unique recipient on the SMTP sink, and a reader for what it receives. */
export async function smtpMailbox(): Promise<SmtpMailbox> {
  const host = need('smtp', 'TRESOR_TEST_SMTP_HOST');
  const port = Number(need('smtp', 'TRESOR_TEST_SMTP_PORT'));
  const api = need('smtp', 'TRESOR_TEST_SMTP_API_URL').replace(/\/+$/, '');
  await assertReachable('smtp', host, port);
  await assertUrlReachable('smtp', api, 80);
  const caFile = optional('TRESOR_TEST_TLS_CA_FILE');
  const address = `${uniqueName('t')}@tresor.test`;
  const messages = async (): Promise<SinkMail[]> => {
    const res = await fetch(`${api}/messages?to=${encodeURIComponent(address)}`);
    if (!res.ok) throw new Error(`SMTP sink API answered ${res.status} ${await res.text()}`);
    return (await res.json()) as SinkMail[];
  };
  return {
    host,
    port,
    ca: caFile ? readFileSync(caFile) : undefined,
    address,
    messages,
    async waitForMessages(count = 1, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const got = await messages();
        if (got.length >= count) return got;
        if (Date.now() > deadline) {
          throw new Error(
            `expected ${count} message(s) for ${address} within ${timeoutMs} ms, got ${got.length}`,
          );
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    cleanup: once(async () => {
      await fetch(`${api}/messages?to=${encodeURIComponent(address)}`, { method: 'DELETE' });
    }),
  };
}
