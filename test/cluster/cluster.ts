import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { hashBreakGlassPassword } from '@tresor/auth';
import { natsScope, mongoDatabase, need, uniqueName } from '../support/infra.js';
import type { MongoScope, NatsScope } from '../support/infra.js';

const ROOT = resolve(import.meta.dirname, '../..');
const SERVICE = join(ROOT, 'bin/tresor-service.mjs');
const TRESOR = join(ROOT, 'bin/tresor.mjs');
export const PASSPHRASE = 'cluster-test-passphrase';

/**
 * Every test gateway of this process signs sessions with one key and has one break-glass admin,
 * so the harness logs in once (TRESOR_TOKEN) and every cluster of the process accepts that token.
 */
const BREAK_GLASS = { user: 'breakglass', password: randomBytes(18).toString('base64url') };
let harnessAuth: Promise<{ keyFile: string; hash: string }> | undefined;
function authSetup(): Promise<{ keyFile: string; hash: string }> {
  return (harnessAuth ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tresor-auth-'));
    const keyFile = join(dir, 'session-key.pem');
    await writeFile(keyFile, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    return { keyFile, hash: await hashBreakGlassPassword(BREAK_GLASS.password) };
  })());
}

export interface RunningService {
  readonly name: string;
  readonly child: ChildProcess;
  readonly http: string;
  readonly logs: string[];
}

/** A whole cluster for one test: its own subject root, stream names, Mongo database and repository. */
export class TestCluster {
  readonly services: RunningService[] = [];
  /** An admin session token for the gateway (set when a gateway starts); cli() sends it. */
  token: string | undefined;
  private auth!: { keyFile: string; hash: string };
  private readonly redisPrefix = `tresor-test:${uniqueName('c')}:`;
  private constructor(
    readonly nats: NatsScope,
    readonly mongo: MongoScope,
    readonly dir: string,
    readonly natsUrl: string,
    readonly mongoUrl: string,
  ) {}

  /** `natsUrl` / `mongoUrl`: run the services against other servers (e.g. private ones a fault test restarts). */
  static async create(options: { natsUrl?: string; mongoUrl?: string } = {}): Promise<TestCluster> {
    const nats = await natsScope();
    const mongo = await mongoDatabase();
    const dir = await mkdtemp(join(tmpdir(), 'tresor-cluster-'));
    const cluster = new TestCluster(nats, mongo, dir, options.natsUrl ?? nats.servers, options.mongoUrl ?? mongo.url);
    cluster.auth = await authSetup();
    const init = await cluster.cli(['--repo', cluster.repo, 'init']);
    if (init.code !== 0) throw new Error(`tresor init failed: ${init.stderr}`);
    return cluster;
  }

  get repo(): string {
    return join(this.dir, 'repo');
  }

  env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      TRESOR_NATS_URL: this.natsUrl,
      TRESOR_SUBJECT_ROOT: this.nats.subjectPrefix,
      TRESOR_NAME_PREFIX: this.nats.namePrefix,
      TRESOR_MONGODB_URL: this.mongoUrl,
      TRESOR_MONGODB_DB: this.mongo.dbName,
      TRESOR_MONGODB_WRITE_CONCERN: '1',
      TRESOR_MONGODB_READ_CONCERN: 'local',
      TRESOR_REPO: this.repo,
      TRESOR_PASSPHRASE: PASSPHRASE,
      TRESOR_STORAGE_PATH: join(this.repo, 'objects'),
      TRESOR_HTTP_PORT: '0',
      TRESOR_LOG_LEVEL: 'info',
      // The gateway's authentication: Redis for sessions and lockouts, a break-glass admin.
      TRESOR_REDIS_URL: need('redis', 'TRESOR_TEST_REDIS_URL'),
      TRESOR_REDIS_PREFIX: this.redisPrefix,
      TRESOR_AUTH_SIGNING_KEY_FILE: this.auth.keyFile,
      TRESOR_AUTH_BREAKGLASS_USER: BREAK_GLASS.user,
      TRESOR_AUTH_BREAKGLASS_HASH: this.auth.hash,
      TRESOR_AUTH_ACCESS_TTL_S: '3600',
      // Sources are sensitive by default in production (dual control); tests of other features restore
      // directly, and test/cluster/approvals.e2e.spec.ts turns dual control on.
      TRESOR_DUAL_CONTROL: JSON.stringify({ sensitiveByDefault: false }),
      ...extra,
    };
  }

  /** Starts a service as its own OS process and waits for its ready line. */
  async start(name: string, extra: Record<string, string> = {}): Promise<RunningService> {
    // The gateway refuses state-changing requests it cannot audit, so it never runs without an audit service.
    if (name === 'gateway' && !this.services.some((s) => s.name === 'audit')) await this.start('audit');
    const child = spawn(process.execPath, [SERVICE, name], { env: this.env(extra), stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT });
    const logs: string[] = [];
    const errs = createInterface({ input: child.stderr! });
    errs.on('line', (l) => logs.push(l));
    const http = await new Promise<string>((resolvePromise, reject) => {
      const lines = createInterface({ input: child.stdout! });
      lines.on('line', (line) => {
        logs.push(line);
        try {
          const j = JSON.parse(line) as { event?: string; http?: string };
          if (j.event === 'ready' && j.http) resolvePromise(j.http);
        } catch {
          // not JSON
        }
      });
      child.once('exit', (code) => reject(new Error(`${name} exited with ${code} before it was ready:\n${logs.join('\n')}`)));
    });
    const service = { name, child, http, logs };
    this.services.push(service);
    if (name === 'gateway' && !this.token) {
      this.token = await this.login(http);
      // TresorClient instances the tests create without a token use this one (TRESOR_TOKEN).
      process.env.TRESOR_TOKEN ??= this.token;
    }
    return service;
  }

  /** Logs the harness's break-glass admin in at a gateway; returns the access token. */
  async login(http: string): Promise<string> {
    const r = await fetch(`${http}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: BREAK_GLASS.user, password: BREAK_GLASS.password }) });
    if (r.status !== 200) throw new Error(`harness login failed: ${r.status} ${await r.text()}`);
    return ((await r.json()) as { accessToken: string }).accessToken;
  }

  async startAll(): Promise<RunningService> {
    await this.start('storage-gateway');
    await Promise.all([this.start('backup-engine'), this.start('recovery'), this.start('audit'), this.start('monitoring'), this.start('scheduler')]);
    return this.start('gateway');
  }

  cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolvePromise) => {
      const child = spawn(process.execPath, [TRESOR, ...args], {
        env: { PATH: process.env.PATH, HOME: this.dir, TRESOR_PASSPHRASE: PASSPHRASE, ...(this.token ? { TRESOR_TOKEN: this.token } : {}), ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d));
      child.stderr.on('data', (d: Buffer) => (stderr += d));
      child.on('close', (code) => resolvePromise({ code: code ?? -1, stdout, stderr }));
    });
  }

  private async cleanupRedis(): Promise<void> {
    const { Redis } = await import('ioredis');
    const r = new Redis(this.env().TRESOR_REDIS_URL!, { maxRetriesPerRequest: 2 });
    try {
      let cursor = '0';
      do {
        const [next, keys] = await r.scan(cursor, 'MATCH', `${this.redisPrefix}*`, 'COUNT', 500);
        cursor = next;
        if (keys.length) await r.del(...keys);
      } while (cursor !== '0');
    } finally {
      r.disconnect();
    }
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.services.map(
        (s) =>
          new Promise<void>((r) => {
            if (s.child.exitCode !== null || s.child.signalCode !== null) return r();
            s.child.once('exit', () => r());
            s.child.kill('SIGTERM');
          }),
      ),
    );
    await this.nats.cleanup();
    await this.mongo.cleanup();
    await this.cleanupRedis();
    await rm(this.dir, { recursive: true, force: true });
  }
}
