// Serves the built console (dist/apps/console) on the gateway's Fastify instance: files as they are,
// every other path that is not an API route falls back to index.html so the SPA's router takes over.
// These are Fastify routes, not Nest controllers: the AuthGuard (and the OpenAPI document) cover the
// API only, so the console's static files need no token, while every /v1 route still does.
import { readFile, stat } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { NotFoundError } from '@tresor/errors';
import { toErrorBody } from '@tresor/messaging';
import { DOCS_CSP, arrivedOverTls, baseSecurityHeaders, consoleSecurityHeaders } from './console.headers.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** Paths that belong to the API or the service kit: an unknown one is a 404, never the console. */
const NOT_CONSOLE = /^\/(v1|health|metrics|docs|openapi\.json)(\/|$)/;
/** The API reference's pages (Swagger UI). */
const DOCS = /^\/docs(\/|$|\?)/;

/** Where the console is and what the gateway does with it. */
export interface ConsoleServerOptions {
  /** Directory of the Vite build (index.html + assets/). */
  dir: string;
}

/** Registers the console's routes and the gateway-wide security headers on `app`; returns whether a build was found. */
export async function registerConsole(app: FastifyInstance, options: ConsoleServerOptions): Promise<boolean> {
  const root = resolve(options.dir);
  app.addHook('onSend', async (req, reply, payload) => {
    // Every response (API included): no sniffing, no referrer, HSTS over TLS. The console adds its CSP below.
    for (const [name, value] of Object.entries(baseSecurityHeaders(arrivedOverTls(req.raw)))) if (!reply.hasHeader(name)) reply.header(name, value);
    if (DOCS.test(req.url) && !reply.hasHeader('content-security-policy')) reply.header('content-security-policy', DOCS_CSP);
    return payload;
  });
  app.get('/*', (req, reply) => serve(root, req, reply));
  app.get('/', (req, reply) => serve(root, req, reply));
  return isFile(resolve(root, 'index.html'));
}

async function serve(root: string, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const pathname = pathOf(req.url);
  if (pathname === null || NOT_CONSOLE.test(pathname)) return notFound(reply, `no route ${req.method} ${req.url.split('?')[0]}`);
  const file = fileFor(root, pathname);
  if (file && (await isFile(file))) return send(reply, req, file, pathname.startsWith('/assets/'));
  // A missing asset (it has an extension) is a 404; anything else is a screen of the SPA.
  if (extname(pathname) !== '') return notFound(reply, `no console file ${pathname}`);
  const index = resolve(root, 'index.html');
  if (!(await isFile(index))) return notFound(reply, `the console is not built: run \`npx nx build console\` or set TRESOR_CONSOLE_DIR (looked in ${root})`);
  return send(reply, req, index, false);
}

/** The decoded path of a request URL; null for one that does not decode or holds a NUL byte. */
function pathOf(url: string): string | null {
  try {
    const decoded = decodeURIComponent(url.split('?')[0] ?? '/');
    return decoded.includes('\0') ? null : decoded;
  } catch {
    return null;
  }
}

/** The file under root a path names; null when it escapes root or names a dotfile. */
function fileFor(root: string, pathname: string): string | null {
  if (pathname.split('/').some((segment) => segment.startsWith('.'))) return null;
  const file = resolve(root, `.${pathname}`);
  return file.startsWith(root + sep) ? file : null;
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isFile(), () => false);
}

async function send(reply: FastifyReply, req: FastifyRequest, file: string, immutable: boolean): Promise<FastifyReply> {
  const body = await readFile(file);
  // Hashed asset names change with their content; index.html must be revalidated to pick up a new build.
  return reply
    .headers(consoleSecurityHeaders(arrivedOverTls(req.raw)))
    .header('content-type', TYPES[extname(file)] ?? 'application/octet-stream')
    .header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
    .send(body);
}

function notFound(reply: FastifyReply, message: string): FastifyReply {
  return reply.status(404).header('content-type', 'application/json; charset=utf-8').send(toErrorBody(new NotFoundError(message)));
}
