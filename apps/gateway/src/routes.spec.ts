import 'reflect-metadata';
import { describe, expect, it } from 'vitest';
import { PERMISSIONS } from '@tresor/auth';
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
});
