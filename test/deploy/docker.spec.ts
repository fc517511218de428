// Static checks of deploy/docker/*.Dockerfile (Docker cannot run here): pinned bases, a non-root
// runtime user, an entry file the build really produces, and health checks on real routes.
import { execFile, spawn } from 'node:child_process';
import { createServer as createNetServer } from 'node:net';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mongoDatabase, natsScope, need } from '../support/infra.js';
import { appNames, envNamesReadByCode, exists, gatewayDefaultPort, healthPaths, read, ROOT, SERVICE_PORTS, serviceNames } from './support.js';

const run = promisify(execFile);

interface Instruction {
  readonly op: string;
  readonly args: string;
}
interface Stage {
  readonly from: string;
  readonly alias?: string;
  readonly instructions: Instruction[];
}

/** Splits a Dockerfile into stages of instructions (continuation lines joined, comments dropped). */
export function parseDockerfile(text: string): Stage[] {
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (current === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.startsWith('#')) continue;
    if (line.endsWith('\\')) current += `${line.slice(0, -1)} `;
    else {
      logical.push(current + line);
      current = '';
    }
  }
  const stages: Stage[] = [];
  for (const l of logical) {
    const m = /^(\w+)\s+(.*)$/.exec(l);
    if (!m) continue;
    const op = m[1]!.toUpperCase();
    const args = m[2]!.trim();
    if (op === 'FROM') {
      const f = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args)!;
      stages.push({ from: f[1]!, ...(f[2] ? { alias: f[2] } : {}), instructions: [] });
    } else stages.at(-1)?.instructions.push({ op, args });
  }
  return stages;
}

const first = (s: Stage, op: string) => s.instructions.find((i) => i.op === op);
const all = (s: Stage, op: string) => s.instructions.filter((i) => i.op === op);
const execForm = (args: string): string[] => JSON.parse(args.replace(/^--\S+\s+/g, '')) as string[];

const apps = appNames();
const services = serviceNames();
const dockerfile = (app: string) => `deploy/docker/${app}.Dockerfile`;

describe('deploy/docker', () => {
  it('has one Dockerfile per app (every service and the CLI)', () => {
    expect(apps).toEqual(expect.arrayContaining([...services, 'cli']));
    for (const app of apps) expect(exists(dockerfile(app)), dockerfile(app)).toBe(true);
  });

  describe.each(apps)('%s.Dockerfile', (app) => {
    const stages = parseDockerfile(read(dockerfile(app)));
    const runtime = stages.at(-1)!;
    const aliases = new Set(stages.map((s) => s.alias).filter(Boolean));

    it('pins every base image by exact version tag or digest', () => {
      for (const s of stages) {
        if (aliases.has(s.from)) continue;
        expect(s.from, s.from).toMatch(/^[\w./-]+(:\d+\.\d+\.\d+(-[\w.-]+)?|@sha256:[0-9a-f]{64})$|^[\w./-]+:\d+\.\d+\.\d+(-[\w.-]+)?@sha256:[0-9a-f]{64}$/);
      }
    });

    it('is multi-stage: build tools and sources stay out of the runtime stage', () => {
      expect(stages.length).toBeGreaterThanOrEqual(2);
      expect(aliases.has(runtime.from)).toBe(false);
      expect(all(runtime, 'COPY').some((c) => /^\.\s/.test(c.args))).toBe(false);
      // The only command allowed at run-time stage: creating the volume mount points for uid 1000.
      for (const r of all(runtime, 'RUN')) expect(r.args).toMatch(/^install -d -o 1000 -g 1000 -m 0700( \/[\w/.-]+)+$/);
    });

    it('runs as a non-root user set before the command', () => {
      const users = all(runtime, 'USER');
      expect(users.length).toBeGreaterThan(0);
      const user = users.at(-1)!.args.split(':')[0]!;
      expect(['root', '0']).not.toContain(user);
      const userAt = runtime.instructions.lastIndexOf(users.at(-1)!);
      const cmdAt = runtime.instructions.findIndex((i) => i.op === 'CMD' || i.op === 'ENTRYPOINT');
      expect(userAt).toBeLessThan(cmdAt);
      // A VOLUME hides later changes to its directory: its mount point is made (and owned) before.
      const volumes = all(runtime, 'VOLUME').flatMap((v) => JSON.parse(v.args) as string[]);
      for (const v of volumes) {
        const made = all(runtime, 'RUN').findIndex((r) => r.args.split(' ').includes(v));
        expect(made, `${v} is created for uid 1000`).toBeGreaterThanOrEqual(0);
        expect(runtime.instructions.indexOf(all(runtime, 'RUN')[made]!)).toBeLessThan(runtime.instructions.findIndex((i) => i.op === 'VOLUME'));
      }
    });

    it("holds only the production dependencies this app's bundle imports", () => {
      const deps = stages.find((s) => all(s, 'RUN').some((r) => /npm prune --omit=dev/.test(r.args)));
      expect(deps?.alias).toBeDefined();
      const prune = /node scripts\/prune-deps\.mjs (\S+) (\S+) (\S+)/.exec(all(deps!, 'RUN').map((r) => r.args).join(' '));
      expect(prune?.[1]).toBe(`/out/${app}/externals.json`);
      const nodeModules = all(runtime, 'COPY').filter((c) => c.args.includes('node_modules'));
      expect(nodeModules.length).toBe(1);
      expect(nodeModules[0]!.args).toBe(`--from=${deps!.alias} ${prune![3]}/node_modules ./node_modules`);
    });

    it('starts the bundle of this app that the build stage produces', () => {
      const build = stages.find((s) => all(s, 'RUN').some((r) => r.args.includes('scripts/bundle.mjs')))!;
      const m = /node scripts\/bundle\.mjs (\S+) (\S+)/.exec(all(build, 'RUN').map((r) => r.args).join(' '))!;
      expect(m[1]).toBe(app);
      const outDir = m[2]!;
      const workdir = first(runtime, 'WORKDIR')!.args;
      const copied = all(runtime, 'COPY').find((c) => c.args.startsWith(`--from=${build.alias} ${outDir}/${app}/`));
      expect(copied?.args.split(/\s+/).at(-1)).toBe('./');
      const command = [...(first(runtime, 'ENTRYPOINT') ? execForm(first(runtime, 'ENTRYPOINT')!.args) : []), ...execForm(first(runtime, 'CMD')!.args)];
      expect(command[0]).toBe('node');
      expect(command).toContain(`${workdir}/main.mjs`);
    });

    it('copies only files that exist in the repository', () => {
      for (const c of all(runtime, 'COPY').filter((x) => !x.args.startsWith('--from'))) {
        const [src] = c.args.split(/\s+/);
        expect(exists(src!), src).toBe(true);
      }
    });

    it('sets only environment variables the code reads', () => {
      const known = envNamesReadByCode();
      for (const e of all(runtime, 'ENV')) {
        for (const m of e.args.matchAll(/(TRESOR_[A-Z0-9_]+)=/g)) expect(known, m[1]).toContain(m[1]);
      }
    });

    if (app !== 'cli') {
      it('checks its health on a route every service serves, on the port it listens on', () => {
        const hc = first(runtime, 'HEALTHCHECK')!;
        const cmd = /CMD\s+(\[.*\])$/.exec(hc.args)![1]!;
        const argv = JSON.parse(cmd) as string[];
        expect(argv.slice(0, 2)).toEqual(['node', '/app/healthcheck.mjs']);
        expect(healthPaths()).toContain(argv[2]);
        const env = all(runtime, 'ENV').map((e) => e.args).join(' ');
        expect(env).toContain(`TRESOR_HTTP_PORT=${SERVICE_PORTS[app]}`);
        expect(env).toContain('TRESOR_HTTP_HOST=0.0.0.0');
        expect(first(runtime, 'EXPOSE')!.args).toBe(String(SERVICE_PORTS[app]));
        if (app === 'gateway') expect(SERVICE_PORTS.gateway).toBe(gatewayDefaultPort());
      });
    } else {
      it('is a command: ENTRYPOINT the CLI, a data volume for the repository', () => {
        expect(execForm(first(runtime, 'ENTRYPOINT')!.args)).toContain('/app/main.mjs');
        expect(first(runtime, 'VOLUME')!.args).toContain('/data');
      });
    }
  });
});

describe('scripts/bundle.mjs (the build step of every image)', () => {
  let out: string;
  beforeAll(() => {
    // Inside the repository so the bundle resolves its external packages from node_modules.
    mkdirSync(join(ROOT, 'tmp'), { recursive: true });
    out = mkdtempSync(join(ROOT, 'tmp', 'bundle-'));
  });
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it.each(apps)('bundles %s into one main.mjs', async (app) => {
    await run(process.execPath, [join(ROOT, 'scripts/bundle.mjs'), app, out], { cwd: ROOT });
    expect(existsSync(join(out, app, 'main.mjs'))).toBe(true);
  });

  it('the bundled CLI runs', async () => {
    const { stdout } = await run(process.execPath, [join(out, 'cli', 'main.mjs'), '--version']);
    const version = (JSON.parse(read('package.json')) as { version: string }).version;
    expect(stdout.trim()).toBe(version);
  });
});

/** ENV of an image's runtime stage, as the container starts with it. */
function imageEnv(app: string): Record<string, string> {
  const runtime = parseDockerfile(read(dockerfile(app))).at(-1)!;
  const env: Record<string, string> = {};
  for (const e of all(runtime, 'ENV')) for (const m of e.args.matchAll(/(\w+)=(\S+)/g)) env[m[1]!] = m[2]!;
  return env;
}

async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

describe('the bundled services start like their images and pass their health check', () => {
  let out: string;
  beforeAll(() => {
    // Outside the repository: the bundle finds only the node_modules that prune-deps made for it.
    out = mkdtempSync(join(tmpdir(), 'tresor-image-'));
  });
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it.each(['gateway', 'storage-gateway'])('%s: with only its pruned dependencies, ready on its health route, exits 0 on SIGTERM', async (app) => {
    await run(process.execPath, [join(ROOT, 'scripts/bundle.mjs'), app, out], { cwd: ROOT });
    await run(process.execPath, [join(ROOT, 'scripts/prune-deps.mjs'), join(out, app, 'externals.json'), ROOT, join(out, app)]);
    const nats = await natsScope();
    const mongo = await mongoDatabase();
    const port = String(await freePort());
    const env = {
      ...process.env,
      ...imageEnv(app),
      TRESOR_HTTP_PORT: port,
      TRESOR_NATS_URL: nats.servers,
      TRESOR_SUBJECT_ROOT: nats.subjectPrefix,
      TRESOR_NAME_PREFIX: nats.namePrefix,
      TRESOR_MONGODB_URL: mongo.url,
      TRESOR_MONGODB_DB: mongo.dbName,
      TRESOR_STORAGE_PATH: join(out, 'objects'),
      TRESOR_REDIS_URL: need('redis', 'TRESOR_TEST_REDIS_URL'),
      TRESOR_REDIS_PREFIX: `${nats.namePrefix.toLowerCase()}:`,
    };
    const child = spawn(process.execPath, ['--enable-source-maps', join(out, app, 'main.mjs')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout.on('data', (d: Buffer) => (log += d.toString()));
    child.stderr.on('data', (d: Buffer) => (log += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      const deadline = Date.now() + 60_000;
      let healthy = false;
      while (!healthy && Date.now() < deadline && child.exitCode === null) {
        healthy = await run(process.execPath, [join(ROOT, 'deploy/docker/healthcheck.mjs'), '/health/ready'], { env: { ...process.env, TRESOR_HTTP_PORT: port } }).then(
          () => true,
          () => false,
        );
        if (!healthy) await new Promise((r) => setTimeout(r, 500));
      }
      expect(healthy, log).toBe(true);
      child.kill('SIGTERM');
      expect(await exited, log).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await nats.cleanup();
      await mongo.cleanup();
    }
  }, 120_000);
});

describe('deploy/docker/healthcheck.mjs', () => {
  const check = (port: string, path: string) =>
    run(process.execPath, [join(ROOT, 'deploy/docker/healthcheck.mjs'), path], { env: { ...process.env, TRESOR_HTTP_PORT: port } }).then(
      () => 0,
      (err: { code: number }) => err.code,
    );

  it('exits 0 on 2xx and 1 on 503 or when nothing listens', async () => {
    const server = createServer((req, res) => {
      res.statusCode = req.url === '/health/ready' ? 200 : 503;
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = String((server.address() as AddressInfo).port);
    try {
      expect(await check(port, '/health/ready')).toBe(0);
      expect(await check(port, '/health/live')).toBe(1);
    } finally {
      await new Promise((r) => server.close(r));
    }
    expect(await check(port, '/health/ready')).toBe(1);
    expect(await check('0', '/health/ready')).toBe(1);
  });
});
