import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { CallHandler, ExecutionContext, NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { from, lastValueFrom } from 'rxjs';
import type { Observable } from 'rxjs';
import type { AuditAppendInput } from '@tresor/contracts';
import { TresorError } from '@tresor/errors';
import type { Bus } from '@tresor/messaging';
import { traceIdOf } from '@tresor/messaging';
import { appendAudit, auditRefusal } from '@tresor/service';
import { ACCESS_KEY } from '../auth/access.decorator.js';
import type { AccessRule, AuthenticatedRequest } from '../auth/access.decorator.js';
import { BUS } from '../core/tokens.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** Body fields that name what a request acts on; nothing else of a body is recorded (it may hold secrets). */
const TARGET_FIELDS = ['backup', 'target', 'location', 'name'] as const;
/** An audit entry must fit in one NATS message whatever the body held: longer targets are cut. */
const MAX_TARGET_CHARS = 1024;

type Request = AuthenticatedRequest & { method: string; url: string; routeOptions?: { url?: string }; body?: unknown; params?: Record<string, string>; id?: string };

/**
 * Audits every state-changing request BEFORE its handler runs: if the audit service cannot store
 * the entry, the request is refused (503 when no audit service answered, 502 when it answered with an error) and nothing changes, as Vault refuses requests when no
 * audit device can write. A handler that then fails gets a second, `failure` entry (best effort).
 */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  constructor(
    @Inject(BUS) private readonly bus: Bus,
    @Inject(Reflector) private readonly reflector: Reflector,
  ) {}

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = ctx.switchToHttp().getRequest<Request>();
    if (SAFE_METHODS.has(req.method)) return next.handle();
    const rule = this.reflector.get<AccessRule | undefined>(ACCESS_KEY, ctx.getHandler());
    const entry = describe(req, rule);
    return from(
      (async () => {
        try {
          await appendAudit(this.bus, entry);
        } catch (err) {
          throw auditRefusal(err);
        }
        try {
          return await lastValueFrom(next.handle(), { defaultValue: undefined });
        } catch (err) {
          await appendAudit(this.bus, {
            ...entry,
            id: `${entry.id}:failed`,
            outcome: 'failure',
            details: { ...entry.details, phase: 'failed', error: err instanceof TresorError ? err.code : 'INTERNAL' },
          }).catch(() => undefined);
          throw err;
        }
      })(),
    );
  }
}

/** The entry for a request: who (identity, IP, user agent), what (permission or route), on what. */
export function describe(req: Request, rule: AccessRule | undefined): AuditAppendInput & { id: string; details: Record<string, unknown> } {
  const header = (name: string): string | undefined => {
    const v = req.headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const route = req.routeOptions?.url ?? req.url.split('?')[0]!;
  const requestId = header('x-request-id') ?? req.id ?? randomUUID();
  return {
    id: `http:${requestId}:${randomUUID()}`,
    actor: {
      user: req.identity?.name ?? 'anonymous',
      roles: [...(req.identity?.roles ?? [])],
      ip: req.ip ?? null,
      userAgent: header('user-agent')?.slice(0, 512) ?? null,
    },
    action: rule?.kind === 'permission' ? rule.permission : `${req.method} ${route}`,
    target: bounded(target(req) ?? req.url.split('?')[0]!),
    outcome: 'success',
    requestId: requestId.slice(0, 200),
    traceId: traceIdOf(header('traceparent')) ?? null,
    details: { phase: 'accepted', method: req.method, route, ...(req.identity?.subject ? { subject: req.identity.subject } : {}) },
  };
}

function bounded(text: string): string {
  return text.length > MAX_TARGET_CHARS ? `${text.slice(0, MAX_TARGET_CHARS)}… (${text.length} characters)` : text;
}

function target(req: Request): string | undefined {
  if (req.params?.id) return req.params.id;
  const body = req.body as Record<string, unknown> | undefined;
  if (!body || typeof body !== 'object') return undefined;
  const source = body.source as { location?: unknown } | undefined;
  if (typeof source?.location === 'string') return source.location;
  for (const field of TARGET_FIELDS) if (typeof body[field] === 'string' && body[field]) return body[field] as string;
  return undefined;
}
