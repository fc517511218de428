import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_COMMANDS, COMMANDS, EVENTS, JOBS, NATS_SERVICE_USAGE, natsAuthorizationConfig, natsPermissions, subjects } from '@tresor/contracts';
import { renderAuthorization } from '../../deploy/nats/render.js';
import { startOwnNatsServer } from '../support/infra.js';
import type { OwnNatsServer } from '../support/infra.js';
import { TestCluster } from '../cluster/cluster.js';

/**
 * Service-to-service authentication on NATS (issue #6, ADR 0021): deploy/nats/authorization.conf
 * is what the contracts say, it lets every service do what its code does, and a real nats-server
 * running it refuses wrong credentials and subjects outside a service's allow-list.
 */

const ROOT = resolve(import.meta.dirname, '../..');
const SERVICES = Object.keys(NATS_SERVICE_USAGE);

/** Which parts of the shared libs a service's code pulls in, by the names it imports. */
const SHARED: { uses: RegExp; file: string }[] = [
  { uses: /\b(submitJob|submitBackupJob)\b/, file: 'libs/service/src/jobs.ts' },
  { uses: /\b(appendAudit|auditEntriesPage|verifyAudit)\b/, file: 'libs/service/src/audit.ts' },
  { uses: /\bRemoteObjectStore\b/, file: 'libs/messaging/src/object-transfer/remote-object-store.ts' },
  { uses: /\b(serveObjectStore|ObjectTransferServer)\b/, file: 'libs/messaging/src/object-transfer/object-transfer.server.ts' },
];

async function sourceOf(service: string): Promise<string> {
  const dir = join(ROOT, 'apps', service, 'src');
  let text = '';
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts')) text += await readFile(join(e.parentPath, e.name), 'utf8');
  }
  // Only names the service imports count: a port property that happens to share a name (a
  // compliance port's `verifyAudit` that asks the audit service directly) pulls nothing in.
  const imported = [...text.matchAll(/import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*'@tresor\/[a-z-]+'/g)].map((m) => m[1]).join(',');
  for (const s of SHARED) if (s.uses.test(imported)) text += await readFile(join(ROOT, s.file), 'utf8');
  return text;
}

const matches = (pattern: string, subject: string): boolean => {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return s.length > i;
    if (p[i] !== '*' && p[i] !== s[i]) return false;
  }
  return p.length === s.length;
};
const allowed = (list: string[], subject: string): boolean => list.some((p) => matches(p, subject));

describe('NATS subject permissions per service (deploy/nats)', () => {
  it('deploy/nats/authorization.conf is the one rendered from the contracts', async () => {
    expect(await readFile(join(ROOT, 'deploy/nats/authorization.conf'), 'utf8')).toBe(renderAuthorization());
  });

  it("every command, event and job a service's code references is within its allow-lists", async () => {
    const s = subjects('tresor');
    const commands = { ...COMMANDS, ...AUDIT_COMMANDS } as Record<string, { name: string; service: string }>;
    const missing: string[] = [];
    for (const service of SERVICES) {
      const code = await sourceOf(service);
      const u = NATS_SERVICE_USAGE[service]!;
      const p = natsPermissions(service, 'tresor');
      for (const [, key] of code.matchAll(/\b(?:AUDIT_)?COMMANDS\.(\w+)/g)) {
        const c = commands[key!];
        if (!c) continue;
        const subject = s.command(c.name);
        const ok = c.service === service ? allowed(p.subscribe.allow, subject) : allowed(p.publish.allow, subject);
        if (!ok) missing.push(`${service}: command ${c.name}`);
      }
      for (const [, key] of code.matchAll(/\bEVENTS\.(\w+)/g)) {
        const e = (EVENTS as Record<string, { name: string }>)[key!];
        if (!e) continue;
        // An event a service only reads comes through its durable consumer on the events stream.
        if (!allowed(p.publish.allow, s.event(e.name)) && !u.readsEvents) missing.push(`${service}: event ${e.name}`);
      }
      for (const [, key] of code.matchAll(/\bJOBS\.(\w+)/g)) {
        const j = (JOBS as Record<string, { kind: string }>)[key!];
        if (!j) continue;
        if (!allowed(p.publish.allow, s.job(j.kind)) && !u.works.includes(j.kind)) missing.push(`${service}: job ${j.kind}`);
      }
    }
    expect(missing).toEqual([]);
    // Every command is answered by the service the contract names, and nobody else may listen on it.
    for (const c of Object.values(commands)) {
      for (const service of SERVICES) {
        expect(allowed(natsPermissions(service, 'tresor').subscribe.allow, s.command(c.name)), `${service} on ${c.name}`).toBe(c.service === service);
      }
    }
  });

  describe('a real nats-server with the rendered authorization', () => {
    let server: OwnNatsServer;
    let cluster: TestCluster;
    const passwords = Object.fromEntries(SERVICES.map((s) => [s, randomBytes(12).toString('hex')]));
    const creds = (service: string) => ({ TRESOR_NATS_USER: service, TRESOR_NATS_PASSWORD: passwords[service]! });

    beforeAll(async () => {
      cluster = await TestCluster.create();
      const dir = join(cluster.dir, 'nats');
      await mkdir(dir, { recursive: true });
      const conf = join(dir, 'nats-server.conf');
      await writeFile(conf, natsAuthorizationConfig(cluster.nats.subjectPrefix, (service) => JSON.stringify(passwords[service])));
      server = await startOwnNatsServer({ configFile: conf });
    }, 120_000);
    afterAll(async () => {
      await cluster?.stop();
      await server?.stop();
    });

    it('refuses a wrong password and an unknown user, and a service started with one does not come up', async () => {
      await expect(connect({ servers: server.url, user: 'gateway', pass: 'wrong-password', reconnect: false })).rejects.toThrow(/authoriz/i);
      await expect(connect({ servers: server.url, reconnect: false })).rejects.toThrow(/authoriz/i);
      const child = spawn(process.execPath, [join(ROOT, 'bin/tresor-service.mjs'), 'storage-gateway'], {
        env: { ...cluster.env({ TRESOR_NATS_URL: server.url, TRESOR_NATS_USER: 'storage-gateway', TRESOR_NATS_PASSWORD: 'not-the-password' }) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d));
      child.stderr.on('data', (d: Buffer) => (out += d));
      const code = await new Promise<number | string>((r) => {
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          r('still waiting');
        }, 20_000);
        child.once('exit', (c) => {
          clearTimeout(timer);
          r(c ?? -1);
        });
      });
      expect(out).not.toMatch(/"event":"ready"/);
      expect(out).not.toContain('not-the-password');
      expect(code === 'still waiting' || code !== 0).toBe(true);
    }, 60_000);

    it('keeps a service to its own subjects', async () => {
      const root = cluster.nats.subjectPrefix;
      const s = subjects(root);
      const storage = await connect({ servers: server.url, user: 'storage-gateway', pass: passwords['storage-gateway'] });
      const gateway = await connect({ servers: server.url, user: 'gateway', pass: passwords.gateway });
      try {
        // Allowed: storage-gateway answers storage.locations, the gateway asks.
        storage.subscribe(s.command('storage.locations'), {
          callback: (_e, m) => {
            m.respond('ok');
          },
        });
        await storage.flush();
        expect(new TextDecoder().decode((await gateway.request(s.command('storage.locations'), '', { timeout: 10_000 })).data)).toBe('ok');
        // Refused: storage-gateway listening on the audit service's command, the gateway answering storage.
        const errors: string[] = [];
        void (async () => {
          for await (const st of storage.status()) if (st.type === 'error') errors.push(String(st.error));
        })();
        const stolen = storage.subscribe(s.command('audit.append'));
        const closed = await Promise.race([stolen.closed.then((e) => String(e ?? 'closed')), new Promise<string>((r) => setTimeout(() => r('open'), 10_000))]);
        expect(`${closed} ${errors.join(' ')}`).toMatch(/permission/i);
      } finally {
        await storage.close();
        await gateway.close();
      }
    }, 60_000);

    it('every service runs on its own user: a backup and a restore go through', async () => {
      const url = server.url;
      const start = (name: string) => cluster.start(name, { TRESOR_NATS_URL: url, ...creds(name) });
      await start('storage-gateway');
      await Promise.all([start('backup-engine'), start('recovery'), start('audit'), start('monitoring'), start('scheduler')]);
      const gw = await start('gateway');
      const src = join(cluster.dir, 'keys');
      await mkdir(src, { recursive: true });
      await writeFile(join(src, 'a.key'), randomBytes(256).toString('hex'));
      const backup = await cluster.cli(['--server', gw.http, 'backup', src]);
      expect(backup.stderr).toBe('');
      expect(backup.code).toBe(0);
      const restore = await cluster.cli(['--server', gw.http, 'restore', 'latest', '--target', join(cluster.dir, 'restored')]);
      expect(restore.code).toBe(0);
      expect(await readFile(join(cluster.dir, 'restored', 'a.key'), 'utf8')).toBe(await readFile(join(src, 'a.key'), 'utf8'));
      for (const svc of cluster.services) expect(svc.logs.join('\n'), svc.name).not.toMatch(/permissions violation/i);
    }, 600_000);
  });
});
