// deploy/compose: both files parse, reference only what exists, and configure the services with
// variables the code reads; the NATS config and the sample LDAP directory are loaded by real servers.
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import YAML from 'yaml';
import { parseAlertingConfig } from '@tresor/alerting';
import { parseMonitorConfig } from '@tresor/assurance';
import { authConfigFromEnv } from '@tresor/auth';
import { describe, expect, it } from 'vitest';
import { ldapSubtree, need } from '../support/infra.js';
import { baseDefault, envNamesReadByCode, exists, read, requiredEnv, SECRET_NAME, SERVICE_PORTS, serviceNames } from './support.js';

const run = promisify(execFile);
const DIR = 'deploy/compose';

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  secrets?: string[];
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  deploy?: { replicas?: number };
  read_only?: boolean;
  user?: string;
  network_mode?: string;
}
interface Compose {
  services: Record<string, ComposeService>;
  secrets?: Record<string, { environment?: string; file?: string }>;
  volumes?: Record<string, unknown>;
}

function load(file: string): Compose {
  const doc = YAML.parseDocument(read(`${DIR}/${file}`), { merge: true });
  expect(doc.errors.map((e) => e.message)).toEqual([]);
  return doc.toJSON() as Compose;
}

const version = (JSON.parse(read('package.json')) as { version: string }).version;
const services = serviceNames();
const PINNED = /^[\w./-]+:(\d+\.\d+\.\d+[\w.-]*|RELEASE\.[\dT-]+Z)(@sha256:[0-9a-f]{64})?$/;

describe.each(['docker-compose.yml', 'docker-compose.dev.yml'])('%s', (file) => {
  const compose = load(file);
  const entries = Object.entries(compose.services);

  it('pins every image by exact version', () => {
    for (const [name, s] of entries) expect(s.image, name).toMatch(PINNED);
  });

  it('refers only to files in the repository, declared volumes, secrets and services', () => {
    for (const [name, s] of entries) {
      for (const v of s.volumes ?? []) {
        const source = v.split(':')[0]!;
        if (source.startsWith('.')) expect(exists(join(DIR, source)), `${name}: ${source}`).toBe(true);
        else expect(Object.keys(compose.volumes ?? {}), `${name}: volume ${source}`).toContain(source);
      }
      for (const secret of s.secrets ?? []) expect(Object.keys(compose.secrets ?? {}), `${name}: secret ${secret}`).toContain(secret);
      for (const dep of Object.keys(s.depends_on ?? {})) expect(Object.keys(compose.services), `${name} depends on ${dep}`).toContain(dep);
      if (s.network_mode?.startsWith('service:')) expect(Object.keys(compose.services)).toContain(s.network_mode.slice(8));
      if (s.build) expect(exists(s.build.dockerfile), s.build.dockerfile).toBe(true);
    }
  });

  it('inlines no secret: secrets come from the environment of `docker compose` and are mounted as files', () => {
    for (const [name, s] of entries) {
      for (const [key, value] of Object.entries(s.environment ?? {})) {
        if (SECRET_NAME.test(key)) expect(`${key}=${value}`, name).toMatch(/_FILE=/);
      }
    }
    for (const [name, secret] of Object.entries(compose.secrets ?? {})) expect(secret.environment, name).toMatch(/^[A-Z_]+$/);
  });

  it('publishes the dev servers on loopback only', () => {
    if (file !== 'docker-compose.dev.yml') return;
    for (const [name, s] of entries) for (const p of s.ports ?? []) expect(p, name).toMatch(/^127\.0\.0\.1:/);
  });
});

describe('docker-compose.yml (full stack)', () => {
  const compose = load('docker-compose.yml');
  const s = compose.services;
  const byImage = (prefix: string) => Object.entries(s).filter(([, x]) => x.image?.startsWith(prefix));

  it('runs a 3-node MongoDB replica set and initiates it before any service starts', () => {
    const nodes = byImage('mongo:').filter(([, x]) => x.command?.includes('--replSet'));
    expect(nodes.map(([n]) => n)).toEqual(['mongo1', 'mongo2', 'mongo3']);
    const init = s['mongo-init']!;
    expect(init.environment!.MONGO_MEMBERS).toBe('mongo1:27017,mongo2:27017,mongo3:27017');
    expect(init.command).toContain('/init/init-replica-set.js');
    for (const name of services) {
      const deps = s[name]!.depends_on ?? {};
      const direct = deps['mongo-init']?.condition === 'service_completed_successfully';
      const viaStorage = deps['storage-gateway']?.condition === 'service_healthy' && s['storage-gateway']!.depends_on!['mongo-init'];
      expect(direct || Boolean(viaStorage), name).toBe(true);
    }
  });

  it('runs a 3-node NATS JetStream cluster whose routes name its nodes', async () => {
    const nodes = byImage('nats:').map(([n]) => n);
    expect(nodes).toEqual(['nats1', 'nats2', 'nats3']);
    const conf = read(`${DIR}/nats/nats.conf`);
    for (const n of nodes) expect(conf).toContain(`nats://${n}:6222`);
    expect(conf).toMatch(/jetstream\s*\{/);
    // The node as the container has it: authorization.conf next to nats.conf, passwords in the environment.
    const dir = mkdtempSync(join(tmpdir(), 'tresor-compose-nats-'));
    try {
      writeFileSync(join(dir, 'nats.conf'), conf);
      writeFileSync(join(dir, 'authorization.conf'), read('deploy/nats/authorization.conf'));
      const passwords = Object.fromEntries(services.map((n) => [`TRESOR_NATS_PASSWORD_${n.toUpperCase().replaceAll('-', '_')}`, `stand-in-${n}`]));
      await run(need('nats', 'TRESOR_TEST_NATS_SERVER_BIN'), ['-c', join(dir, 'nats.conf'), '-t'], { env: { PATH: process.env.PATH, ...passwords } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    for (const n of nodes) {
      expect(s[n]!.volumes).toContain('../nats/authorization.conf:/etc/nats/authorization.conf:ro');
      expect([...(s[n]!.secrets ?? [])].sort()).toEqual(services.map((x) => `nats-${x}`).sort());
    }
  });

  it.each(services)('connects %s to NATS as its own user of deploy/nats, its password a secret file', (name) => {
    const svc = s[name]!;
    expect(svc.environment!.TRESOR_NATS_USER).toBe(name);
    expect(read('deploy/nats/authorization.conf')).toContain(`user: "${name}"`);
    expect(svc.environment!.TRESOR_NATS_PASSWORD_FILE).toBe(`/run/secrets/nats-${name}`);
    expect(svc.secrets).toContain(`nats-${name}`);
    expect(compose.secrets![`nats-${name}`]!.environment).toBe(`TRESOR_NATS_PASSWORD_${name.toUpperCase().replaceAll('-', '_')}`);
  });

  it('runs 2 monitoring replicas electing a leader in Redis, with alerting and health check configs the libs accept', () => {
    const m = s.monitoring!;
    expect(m.deploy!.replicas).toBe(s.scheduler!.deploy!.replicas);
    expect(m.environment!.TRESOR_REDIS_URL).toBe('redis://redis:6379/0');
    const mounted = (path: string): string => {
      const v = m.volumes!.find((x) => x.split(':')[1] === path);
      expect(v, path).toBeDefined();
      return read(join(DIR, v!.split(':')[0]!));
    };
    const alerts = parseAlertingConfig(JSON.parse(mounted(m.environment!.TRESOR_ALERTS_CONFIG!)), 'alerts.json');
    const refs = [...JSON.stringify(alerts.channels).matchAll(/"file":"([^"]+)"/g)].map((x) => x[1]!);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) expect(m.secrets!.map((x) => `/run/secrets/${x}`)).toContain(ref);
    expect(parseMonitorConfig(JSON.parse(mounted(m.environment!.TRESOR_MONITOR_CONFIG!)), 'monitor.json').intervalSeconds).toBeGreaterThan(0);
  });

  it('has Redis, OpenLDAP with the sample directory, and MinIO', () => {
    expect(byImage('redis:')).toHaveLength(1);
    expect(s.openldap!.volumes!.some((v) => v.startsWith('./ldap/sample-directory.ldif:'))).toBe(true);
    expect(byImage('minio/minio:')).toHaveLength(1);
  });

  it.each(services)('runs %s from its image, hardened, configured by variables the code reads', (name) => {
    const svc = s[name]!;
    expect(svc.image).toBe(`tresor/${name}:${version}`);
    expect(svc.build!.dockerfile).toBe(`deploy/docker/${name}.Dockerfile`);
    expect(svc.read_only).toBe(true);
    expect(svc.user).toBe('1000:1000');
    const env = svc.environment ?? {};
    const known = envNamesReadByCode();
    for (const key of Object.keys(env)) expect(known, `${name}: ${key}`).toContain(key);
    for (const key of requiredEnv(name)) expect(Object.keys(env), `${name} needs ${key}`).toContain(key);
    expect(env.TRESOR_HTTP_PORT).toBe(String(SERVICE_PORTS[name]));
    expect(env.TRESOR_NATS_REPLICAS).toBe('3');
    if (env.TRESOR_PASSPHRASE_FILE) expect(env.TRESOR_PASSPHRASE_FILE).toBe(`/run/secrets/${svc.secrets![0]}`);
    // Only the gateway is reachable from outside the compose network.
    expect(Boolean(svc.ports?.length), `${name} published`).toBe(name === 'gateway');
  });

  it("configures the gateway's logins against the sample directory, as the auth lib reads them", () => {
    const gw = s.gateway!;
    const env = { ...gw.environment! };
    expect(env.TRESOR_REDIS_URL).toMatch(/^redis:\/\/redis:6379\//);
    expect(new URL(env.TRESOR_LDAP_URL!).hostname).toBe('openldap');
    for (const key of ['TRESOR_LDAP_BIND_PASSWORD_FILE', 'TRESOR_AUTH_SIGNING_KEY_FILE']) {
      expect(gw.secrets!.map((x) => `/run/secrets/${x}`), key).toContain(env[key]);
    }
    // The secrets' files as the container sees them, with stand-in contents.
    const dir = mkdtempSync(join(tmpdir(), 'tresor-compose-'));
    try {
      writeFileSync(join(dir, 'password'), 'stand-in\n');
      writeFileSync(join(dir, 'key.pem'), generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }));
      const auth = authConfigFromEnv({ ...env, TRESOR_LDAP_BIND_PASSWORD_FILE: join(dir, 'password'), TRESOR_AUTH_SIGNING_KEY_FILE: join(dir, 'key.pem') });
      const ldif = read(`${DIR}/ldap/sample-directory.ldif`);
      const dns = new Set([...ldif.matchAll(/^dn: (.+)$/gm)].map((m) => m[1]!));
      expect(dns).toContain(auth.ldap!.userBase);
      expect(dns).toContain(auth.ldap!.groupBase);
      expect(Object.keys(auth.groupMap).length).toBe(5);
      for (const group of Object.keys(auth.groupMap)) expect(dns, group).toContain(group);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs 2 replicas of backup-engine, and 2 schedulers that elect a leader in Redis', () => {
    expect(s['backup-engine']!.deploy!.replicas).toBe(2);
    expect(s.scheduler!.deploy!.replicas).toBe(2);
    for (const name of ['scheduler', 'backup-engine', 'gateway']) expect(s[name]!.environment!.TRESOR_REDIS_URL, name).toBe('redis://redis:6379/0');
  });

  it('the repository tresor-init creates is the one the engines and the storage gateway use', () => {
    const init = s['tresor-init']!;
    expect(init.environment!.TRESOR_REPO).toBe('/data/repository');
    const mount = (svc: ComposeService) => svc.volumes!.find((v) => v.startsWith('repository:'))!.split(':')[1]!;
    const repoIn = (svc: ComposeService, path: string) => `${mount(init)}${path.slice(mount(svc).length)}`;
    expect(repoIn(s['backup-engine']!, s['backup-engine']!.environment!.TRESOR_REPO!)).toBe('/data/repository');
    expect(repoIn(s.recovery!, s.recovery!.environment!.TRESOR_REPO!)).toBe('/data/repository');
    expect(repoIn(s['storage-gateway']!, s['storage-gateway']!.environment!.TRESOR_STORAGE_PATH!)).toBe('/data/repository/objects');
  });
});

describe('docker-compose.dev.yml (infrastructure for running the services from source)', () => {
  const compose = load('docker-compose.dev.yml');
  it('holds no Tresor service, and publishes NATS and MongoDB where the services look by default', () => {
    expect(Object.values(compose.services).some((x) => x.image?.startsWith('tresor/'))).toBe(false);
    const natsPort = new URL(baseDefault('TRESOR_NATS_URL')).port;
    const mongoPort = new URL(baseDefault('TRESOR_MONGODB_URL')).port;
    expect(compose.services.nats!.ports).toContain(`127.0.0.1:${natsPort}:4222`);
    expect(compose.services.mongo!.ports).toContain(`127.0.0.1:${mongoPort}:27017`);
    expect(compose.services.nats!.command).toContain('--jetstream');
  });
});

describe('ldap/sample-directory.ldif', () => {
  /** Plain LDIF records (no continuation lines in this file) with the base DN replaced. */
  function entries(base: string): Array<{ dn: string; attrs: Record<string, string[]> }> {
    return read(`${DIR}/ldap/sample-directory.ldif`)
      .split(/\n\s*\n/)
      .map((block) => block.split('\n').filter((l) => l && !l.startsWith('#')))
      .filter((lines) => lines.length > 0)
      .map((lines) => {
        const attrs: Record<string, string[]> = {};
        for (const l of lines) {
          const i = l.indexOf(': ');
          (attrs[l.slice(0, i)] ??= []).push(l.slice(i + 2).replaceAll('dc=tresor,dc=example', base));
        }
        const dn = attrs.dn![0]!;
        delete attrs.dn;
        return { dn, attrs };
      });
  }

  it('loads into a real slapd, and a sample user binds with the documented password', async () => {
    const tree = await ldapSubtree();
    const { Client } = await import('ldapts');
    const client = new Client({ url: tree.fixture.url, timeout: 5000, connectTimeout: 3000 });
    try {
      await client.bind(tree.fixture.adminDn, tree.fixture.adminPassword);
      const all = entries(tree.dn);
      for (const e of all) await client.add(e.dn, e.attrs);
      const members = all.flatMap((e) => e.attrs.member ?? []);
      for (const m of members) expect(all.map((e) => e.dn)).toContain(m);
      const user = new Client({ url: tree.fixture.url, timeout: 5000, connectTimeout: 3000 });
      await user.bind(`uid=carol,ou=people,${tree.dn}`, 'tresor-demo');
      await user.unbind();
    } finally {
      await client.unbind();
      await tree.cleanup();
    }
  });
});
