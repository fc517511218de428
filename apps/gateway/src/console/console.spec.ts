import 'reflect-metadata';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { SwaggerModule } from '@nestjs/swagger';
import type { OpenAPIObject } from '@nestjs/swagger';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MongoApiTokenStore, PasswordLogin, SessionService } from '@tresor/auth';
import { RequirePermission } from '../auth/access.decorator.js';
import { AuthModule } from '../auth/auth.module.js';
import { ErrorFilter } from '../core/http-errors.js';
import { openApiDocument } from '../openapi.js';
import { CONSOLE_CSP, DOCS_CSP, HSTS } from './console.headers.js';
import { ConsoleModule } from './console.module.js';

/** An API route behind the guard, standing in for the real ones. */
@Controller('v1/things')
class ThingsController {
  @Get()
  @RequirePermission('backups:read')
  list() {
    return [];
  }
}

@Module({ controllers: [ThingsController] })
class ThingsModule {}

/** The guard rejects a request without a bearer token before it asks any of these: they are never called. */
const unused = {} as SessionService & PasswordLogin & MongoApiTokenStore;

async function gateway(consoleDir: string): Promise<{ app: NestFastifyApplication; http: FastifyInstance }> {
  @Module({ imports: [AuthModule.forRoot({ sessions: unused, passwords: unused, apiTokens: unused }), ThingsModule, ConsoleModule.forRoot({ dir: consoleDir })] })
  class TestGateway {}
  const app = await NestFactory.create<NestFastifyApplication>(TestGateway, new FastifyAdapter(), { logger: false });
  app.useGlobalFilters(new ErrorFilter());
  // As main.ts does: the API reference at /docs, on the console's origin.
  SwaggerModule.setup('docs', app, openApiDocument() as unknown as OpenAPIObject, { jsonDocumentUrl: 'openapi.json', raw: ['json'] });
  await app.init();
  const http = app.getHttpAdapter().getInstance() as FastifyInstance;
  await http.ready();
  return { app, http };
}

describe('the gateway serves the console', () => {
  let base: string;
  let dir: string;
  let app: NestFastifyApplication;
  let http: FastifyInstance;
  const INDEX = '<!doctype html><html><head><script type="module" src="/assets/index-abc.js"></script></head><body><div id="root"></div></body></html>';

  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'tresor-console-'));
    dir = join(base, 'console');
    await mkdir(join(dir, 'assets'), { recursive: true });
    await writeFile(join(dir, 'index.html'), INDEX);
    await writeFile(join(dir, 'assets', 'index-abc.js'), 'console.log("console")');
    await writeFile(join(dir, '.secret'), 'not for the web');
    await writeFile(join(base, 'outside.txt'), 'not for the web');
    ({ app, http } = await gateway(dir));
  });
  afterAll(async () => {
    await app?.close();
    await rm(base, { recursive: true, force: true });
  });

  it('serves index.html at / without a token, with the CSP and the other security headers', async () => {
    const r = await http.inject({ method: 'GET', url: '/' });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(r.body).toBe(INDEX);
    expect(r.headers['content-security-policy']).toBe(CONSOLE_CSP);
    expect(CONSOLE_CSP).toContain("script-src 'self'");
    expect(CONSOLE_CSP).not.toContain('unsafe-inline');
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.headers['referrer-policy']).toBe('no-referrer');
    expect(r.headers['x-frame-options']).toBe('DENY');
    expect(r.headers['cache-control']).toBe('no-cache');
    expect(r.headers['strict-transport-security']).toBeUndefined();
  });

  it('serves the API reference (/docs) with a CSP of its own: same-origin scripts only, no framing', async () => {
    for (const url of ['/docs', '/docs/swagger-ui-init.js']) {
      const r = await http.inject({ method: 'GET', url });
      expect(r.statusCode, url).toBe(200);
      expect(r.headers['content-security-policy'], url).toBe(DOCS_CSP);
    }
    expect(DOCS_CSP).toBe("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'");
    expect(DOCS_CSP).toContain("frame-ancestors 'none'");
  });

  it('sends HSTS when the request came over TLS (at the proxy in front)', async () => {
    const r = await http.inject({ method: 'GET', url: '/', headers: { 'x-forwarded-proto': 'https' } });
    expect(r.headers['strict-transport-security']).toBe(HSTS);
    const api = await http.inject({ method: 'GET', url: '/v1/things', headers: { 'x-forwarded-proto': 'https' } });
    expect(api.headers['strict-transport-security']).toBe(HSTS);
  });

  it('serves hashed assets with their type, cached for good', async () => {
    const r = await http.inject({ method: 'GET', url: '/assets/index-abc.js' });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(r.headers['cache-control']).toContain('immutable');
    expect(r.body).toBe('console.log("console")');
  });

  it('falls back to index.html for the SPA routes, but not for missing files', async () => {
    for (const url of ['/backups', '/backups/01JD8ZB4Y6?tab=entries', '/restore/new']) {
      const r = await http.inject({ method: 'GET', url });
      expect(r.statusCode, url).toBe(200);
      expect(r.body, url).toBe(INDEX);
    }
    const missing = await http.inject({ method: 'GET', url: '/assets/gone-123.js' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'no console file /assets/gone-123.js' } });
  });

  it('lets nothing under /v1 through without a token, and answers unknown API paths with a JSON 404', async () => {
    const guarded = await http.inject({ method: 'GET', url: '/v1/things' });
    expect(guarded.statusCode).toBe(401);
    expect(guarded.json().error.code).toBe('UNAUTHENTICATED');
    expect(guarded.headers['x-content-type-options']).toBe('nosniff');
    const unknown = await http.inject({ method: 'GET', url: '/v1/no-such-route' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'no route GET /v1/no-such-route' } });
    expect(unknown.body).not.toContain('<html');
  });

  it('serves no dotfile and nothing outside its directory', async () => {
    for (const url of ['/.secret', '/..%2foutside.txt', '/assets/..%2f..%2foutside.txt', '/%2e%2e/outside.txt', '/a%00b']) {
      const r = await http.inject({ method: 'GET', url });
      expect(r.body, url).not.toContain('not for the web');
    }
  });

  it('answers 404 with how to build it when the console is not built', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'tresor-console-empty-'));
    const other = await gateway(empty);
    try {
      const r = await other.http.inject({ method: 'GET', url: '/' });
      expect(r.statusCode).toBe(404);
      expect(r.json().error.message).toContain('npx nx build console');
    } finally {
      await other.app.close();
      await rm(empty, { recursive: true, force: true });
    }
  });
});
