// deploy/systemd: every unit is hardened, runs as the dedicated user, starts a real entry point
// (bin/tresor-service.mjs with a service it accepts, or bin/tresor.mjs with a daemon command), and
// sets only variables the code reads; systemd-analyze verifies the files.
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { envNamesReadByCode, exists, read, requiredEnv, ROOT, SERVICE_PORTS, serviceNames } from './support.js';

const DIR = 'deploy/systemd';
/** The standalone daemons of the operations issue (#8): `tresor schedule run`, `tresor monitor start`. */
const DAEMONS: Record<string, string[]> = { 'tresor-schedule.service': ['schedule', 'run'], 'tresor-monitor.service': ['monitor', 'start'] };
const INSTALL = '/opt/tresor';

type Unit = Record<string, Array<[string, string]>>;

function parseUnit(text: string): Unit {
  const unit: Unit = {};
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const s = /^\[(.+)\]$/.exec(line);
    if (s) {
      section = s[1]!;
      unit[section] ??= [];
      continue;
    }
    const i = line.indexOf('=');
    unit[section]!.push([line.slice(0, i), line.slice(i + 1)]);
  }
  return unit;
}
const values = (u: Unit, key: string) => (u.Service ?? []).filter(([k]) => k === key).map(([, v]) => v);
const last = (u: Unit, key: string) => values(u, key).at(-1);

const units = readdirSync(join(ROOT, DIR)).filter((f) => f.endsWith('.service'));
const services = serviceNames();

function systemdAnalyze(): boolean {
  try {
    execFileSync('systemd-analyze', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('deploy/systemd', () => {
  it('has a unit per cluster service and one per standalone daemon', () => {
    expect(units.sort()).toEqual([...services.map((s) => `tresor-${s}.service`), ...Object.keys(DAEMONS)].sort());
    const target = read(`${DIR}/tresor.target`);
    for (const s of services) expect(target).toContain(`tresor-${s}.service`);
  });

  describe.each(units)('%s', (file) => {
    const unit = parseUnit(read(`${DIR}/${file}`));

    it('is hardened and runs as the dedicated user', () => {
      expect(last(unit, 'User')).toBe('tresor');
      expect(last(unit, 'Group')).toBe('tresor');
      for (const [key, value] of [
        ['NoNewPrivileges', 'yes'],
        ['ProtectSystem', 'strict'],
        ['PrivateTmp', 'yes'],
        ['ProtectHome', 'yes'],
        ['PrivateDevices', 'yes'],
        ['ProtectKernelTunables', 'yes'],
        ['ProtectKernelModules', 'yes'],
        ['ProtectControlGroups', 'yes'],
        ['RestrictSUIDSGID', 'yes'],
        ['UMask', '0077'],
        ['CapabilityBoundingSet', ''],
      ] as const) {
        expect(last(unit, key), `${file}: ${key}`).toBe(value);
      }
      expect(last(unit, 'StateDirectory')).toBe('tresor');
    });

    it('starts a Tresor entry point of this repository', () => {
      const [node, entry, ...args] = last(unit, 'ExecStart')!.split(/\s+/);
      expect(node).toMatch(/^\/usr\/(local\/)?bin\/node$/);
      expect(entry!.startsWith(`${INSTALL}/`)).toBe(true);
      const rel = entry!.slice(INSTALL.length + 1);
      expect(exists(rel), rel).toBe(true);
      if (rel === 'bin/tresor-service.mjs') {
        expect(args).toHaveLength(1);
        expect(services, file).toContain(args[0]);
        expect(file).toBe(`tresor-${args[0]}.service`);
      } else {
        expect(rel).toBe('bin/tresor.mjs');
        expect(args).toEqual(DAEMONS[file]);
      }
    });

    it('sets only variables the code reads, and what the service needs', () => {
      const known = envNamesReadByCode();
      const env = Object.fromEntries(values(unit, 'Environment').map((e) => e.split(/=(.*)/s).slice(0, 2) as [string, string]));
      for (const name of Object.keys(env).filter((n) => n.startsWith('TRESOR_'))) expect(known, `${file}: ${name}`).toContain(name);
      const service = /^tresor-(.+)\.service$/.exec(file)![1]!;
      if (services.includes(service)) {
        expect(env.TRESOR_HTTP_PORT).toBe(String(SERVICE_PORTS[service]));
        for (const name of requiredEnv(service)) expect(Object.keys(env), `${file} needs ${name}`).toContain(name);
        // Secrets as credentials (files only root reads, handed to the service), never inline.
        for (const [name, value] of Object.entries(env).filter(([n]) => n.endsWith('_FILE'))) {
          const credential = /^%d\/([\w-]+)$/.exec(value)?.[1];
          expect(credential, `${file}: ${name} is a credential`).toBeDefined();
          expect(values(unit, 'LoadCredential').map((c) => c.split(':')[0]), `${file}: LoadCredential=${credential}`).toContain(credential);
        }
      } else {
        expect(env.TRESOR_REPO).toMatch(/^\/var\/lib\/tresor\//);
      }
      expect(Object.keys(env).some((n) => /PASSPHRASE$|PASSWORD|SECRET|TOKEN/.test(n))).toBe(false);
    });
  });

  it.each(['cluster.env.example', 'gateway.env.example'])('%s names only variables the code reads, and no secret', (file) => {
    const known = envNamesReadByCode();
    for (const line of read(`${DIR}/${file}`).split('\n').filter((l) => /^[A-Z]/.test(l))) {
      const name = line.split('=')[0]!;
      expect(known).toContain(name);
      expect(name).not.toMatch(/PASSWORD|PASSPHRASE|SECRET|TOKEN|_KEY$/);
    }
  });

  it('systemd-analyze verifies every unit without a warning, with a low exposure score', () => {
    if (!systemdAnalyze()) {
      // The static checks above still hold; systemd-analyze is part of systemd on every CI host here.
      throw new Error('systemd-analyze is not installed (apt-get install systemd)');
    }
    const files = [...units, 'tresor.target'].map((u) => join(ROOT, DIR, u));
    const verify = spawnSync('systemd-analyze', ['verify', '--man=no', ...files], { encoding: 'utf8' });
    expect(verify.status).toBe(0);
    // Unknown keys and bad values are warnings on stderr with exit status 0.
    expect(verify.stdout + verify.stderr).toBe('');
    for (const u of units) {
      const report = execFileSync('systemd-analyze', ['security', '--offline=true', join(ROOT, DIR, u)], { encoding: 'utf8' });
      const score = Number(/Overall exposure level for \S+: ([\d.]+)/.exec(report)![1]);
      expect(score, u).toBeLessThanOrEqual(2.5);
    }
  });
});
