import { context } from '@opentelemetry/api';
import { ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_HTTP_ROUTE, ATTR_URL_SCHEME } from '@opentelemetry/semantic-conventions';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SpanKind, startSpan } from '@tresor/messaging';
import type { ActiveSpan } from '@tresor/messaging';

/** Probes and scrapes: frequent, uninteresting, and they would crowd every trace backend. */
const UNTRACED = /^\/(health|metrics)(\/|$)/;

const spans = new WeakMap<FastifyRequest, ActiveSpan>();

/**
 * A server span per HTTP request, continuing the caller's W3C `traceparent`, active while the route
 * runs (so the jobs, commands and events it starts join the trace). Attributes: method, route
 * template (never the raw URL: query strings can carry codes and tokens), status code.
 */
export function traceHttp(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', (request: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void) => {
    const path = request.url.split('?', 1)[0]!;
    if (UNTRACED.test(path)) return done();
    const route = request.routeOptions.url ?? 'unmatched';
    const header = request.headers.traceparent;
    const span = startSpan(`${request.method} ${route}`, {
      kind: SpanKind.SERVER,
      parent: typeof header === 'string' ? header : null,
      attributes: { [ATTR_HTTP_REQUEST_METHOD]: request.method, [ATTR_HTTP_ROUTE]: route, [ATTR_URL_SCHEME]: request.protocol },
    });
    spans.set(request, span);
    // Everything the route does runs in this context (the way @fastify/request-context keeps its store).
    context.with(span.context, () => done());
  });
  fastify.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    const span = spans.get(request);
    if (span) {
      spans.delete(request);
      span.span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, reply.statusCode);
      if (reply.statusCode >= 500) span.fail(new Error(`HTTP ${reply.statusCode}`));
      span.end();
    }
    done();
  });
}
