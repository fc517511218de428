/**
 * What the deployment checks compare manifests against: the apps, the environment variables the
 * code reads, and the health routes it serves, all read from the sources so that a renamed
 * variable or route breaks a test instead of a deployment.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');
export const exists = (path: string): boolean => existsSync(join(ROOT, path));

/** The cluster services: what bin/tresor-service.mjs accepts. */
export function serviceNames(): string[] {
  const m = /const SERVICES = \[([^\]]+)\]/.exec(read('bin/tresor-service.mjs'));
  if (!m) throw new Error('bin/tresor-service.mjs: SERVICES list not found');
  return [...m[1]!.matchAll(/'([a-z-]+)'/g)].map((x) => x[1]!);
}

/** Every app of the workspace (the services and `cli`). */
export function appNames(): string[] {
  return readdirSync(join(ROOT, 'apps')).filter((d) => existsSync(join(ROOT, 'apps', d, 'src', 'main.ts')));
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'e2e' && e.name !== 'node_modules') out.push(...sourceFiles(p));
    } else if (e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts')) out.push(p);
  }
  return out;
}

/**
 * TRESOR_* variables the code reads: keys of the zod config schemas (`TRESOR_X: z…`) and direct
 * reads (`env.TRESOR_X`, `env['TRESOR_X']`) in the non-test sources of apps/ and libs/.
 */
export function envNamesReadByCode(): Set<string> {
  const names = new Set<string>();
  for (const top of ['apps', 'libs']) {
    for (const project of readdirSync(join(ROOT, top))) {
      const src = join(ROOT, top, project, 'src');
      if (!existsSync(src)) continue;
      for (const file of sourceFiles(src)) {
        const text = readFileSync(file, 'utf8');
        for (const m of text.matchAll(/\benv(?:\.|\[['"])(TRESOR_[A-Z0-9_]+)/g)) names.add(m[1]!);
        for (const m of text.matchAll(/^\s*(TRESOR_[A-Z0-9_]+)\s*:\s*(?:z\.|baseConfigSchema|readableFile)/gm)) names.add(m[1]!);
      }
    }
  }
  return names;
}

/** GET routes of the health controller every service mounts (libs/service/src/health.ts). */
export function healthPaths(): Set<string> {
  const text = read('libs/service/src/health.ts');
  const base = /@Controller\('([^']+)'\)/.exec(text)?.[1];
  if (!base) throw new Error('libs/service/src/health.ts: @Controller not found');
  if (!read('libs/service/src/bootstrap.ts').includes('controllers: [HealthController')) {
    throw new Error('libs/service/src/bootstrap.ts no longer mounts HealthController in every service');
  }
  return new Set([...text.matchAll(/@Get\('([^']+)'\)/g)].map((m) => `/${base}/${m[1]}`));
}

/** The gateway's port when TRESOR_HTTP_PORT is not set (apps/gateway/src/main.ts). */
export function gatewayDefaultPort(): number {
  const m = /TRESOR_HTTP_PORT\.default\((\d+)\)/.exec(read('apps/gateway/src/main.ts'));
  if (!m) throw new Error('apps/gateway/src/main.ts: default port not found');
  return Number(m[1]);
}

/** The HTTP port of each service in every deployment kind (docs/operations.md has the table). */
export const SERVICE_PORTS: Record<string, number> = {
  gateway: 8420,
  'storage-gateway': 8421,
  'backup-engine': 8422,
  recovery: 8423,
  monitoring: 8424,
  audit: 8425,
  scheduler: 8426,
};

/** Variables a service cannot start without: `TRESOR_X: z.string().min(1)` in its main.ts. */
export function requiredEnv(service: string): string[] {
  const text = read(`apps/${service}/src/main.ts`);
  return [...text.matchAll(/^\s*(TRESOR_[A-Z0-9_]+): z\.string\(\)\.min\(1\),?$/gm)].map((m) => m[1]!);
}

/** The default of a base setting (libs/service/src/config.ts), e.g. the NATS URL. */
export function baseDefault(name: string): string {
  const m = new RegExp(`${name}: z[^\\n]*\\.default\\('([^']*)'\\)`).exec(read('libs/service/src/config.ts'));
  if (!m) throw new Error(`libs/service/src/config.ts: no string default for ${name}`);
  return m[1]!;
}

/** Names that hold secrets: their values must come from files or secret stores, never inline. */
export const SECRET_NAME = /PASSWORD|PASSPHRASE|SECRET|TOKEN|PIN$|_KEY$/;
