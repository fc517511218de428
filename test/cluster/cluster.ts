import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { natsScope, mongoDatabase } from '../support/infra.js';
import type { MongoScope, NatsScope } from '../support/infra.js';

const ROOT = resolve(import.meta.dirname, '../..');
const SERVICE = join(ROOT, 'bin/tresor-service.mjs');
const TRESOR = join(ROOT, 'bin/tresor.mjs');
export const PASSPHRASE = 'cluster-test-passphrase';

export interface RunningService {
  readonly name: string;
  readonly child: ChildProcess;
  readonly http: string;
  readonly logs: string[];
}

/** A whole cluster for one test: its own subject root, stream names, Mongo database and repository. */
export class TestCluster {
  readonly services: RunningService[] = [];
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
      ...extra,
    };
  }

  /** Starts a service as its own OS process and waits for its ready line. */
  async start(name: string, extra: Record<string, string> = {}): Promise<RunningService> {
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
    return service;
  }

  async startAll(): Promise<RunningService> {
    await this.start('storage-gateway');
    await Promise.all([this.start('backup-engine'), this.start('recovery'), this.start('audit'), this.start('monitoring'), this.start('scheduler')]);
    return this.start('gateway');
  }

  cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolvePromise) => {
      const child = spawn(process.execPath, [TRESOR, ...args], {
        env: { PATH: process.env.PATH, HOME: this.dir, TRESOR_PASSPHRASE: PASSPHRASE, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d));
      child.stderr.on('data', (d: Buffer) => (stderr += d));
      child.on('close', (code) => resolvePromise({ code: code ?? -1, stdout, stderr }));
    });
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
    await rm(this.dir, { recursive: true, force: true });
  }
}
