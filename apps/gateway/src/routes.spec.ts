import 'reflect-metadata';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PATH_METADATA } from '@nestjs/common/constants.js';
import { describe, expect, it } from 'vitest';
import { PERMISSIONS } from '@tresor/auth';
import { ACCESS_KEY } from './auth/access.decorator.js';
import { declaredRoutes } from './routes.js';
import { openApiDocument } from './openapi.js';

describe('gateway routes', () => {
  const routes = declaredRoutes();

  it('every route declares its access rule (deny by default: a route without one fails here)', () => {
    const undeclared = routes.filter((r) => !r.access).map((r) => `${r.method} ${r.path} (${r.handler})`);
    expect(undeclared).toEqual([]);
    for (const r of routes) if (r.access?.kind === 'permission') expect(PERMISSIONS).toContain(r.access.permission);
  });

  it('only login (password or SSO), refresh and the process probes are public', () => {
    expect(routes.filter((r) => r.access?.kind === 'public').map((r) => `${r.method} ${r.path}`).sort()).toEqual(['GET /health/live', 'GET /health/ready', 'GET /v1/auth/oidc', 'POST /v1/auth/login', 'POST /v1/auth/oidc', 'POST /v1/auth/refresh']);
  });

  it('the OpenAPI document describes every route', () => {
    const paths = openApiDocument().paths as Record<string, Record<string, unknown>>;
    for (const r of routes) expect(paths[r.path.replace(/:(\w+)/g, '{$1}')]?.[r.method.toLowerCase()], `${r.method} ${r.path}`).toBeDefined();
  });

  it('every controller in the gateway sources declares access on every route, registered in FEATURE_MODULES or not', async () => {
    const files = readdirSync(import.meta.dirname, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.controller.ts'));
    const undeclared: string[] = [];
    for (const f of files) {
      const mod = (await import(pathToFileURL(join(import.meta.dirname, f)).href)) as Record<string, unknown>;
      for (const c of Object.values(mod)) {
        if (typeof c !== 'function' || Reflect.getMetadata(PATH_METADATA, c) === undefined) continue;
        const proto = (c as { prototype: Record<string, unknown> }).prototype;
        for (const name of Object.getOwnPropertyNames(proto)) {
          const fn = proto[name];
          if (name === 'constructor' || typeof fn !== 'function' || Reflect.getMetadata(PATH_METADATA, fn) === undefined) continue;
          if (!Reflect.getMetadata(ACCESS_KEY, fn) && !Reflect.getMetadata(ACCESS_KEY, c)) undeclared.push(`${f}: ${(c as { name: string }).name}.${name}`);
        }
      }
    }
    expect(files.length).toBeGreaterThan(5);
    expect(undeclared).toEqual([]);
  });
});
