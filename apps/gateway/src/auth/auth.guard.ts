import { Inject, Injectable } from '@nestjs/common';
import type { CanActivate, ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { API_TOKEN_PREFIX, rolesAllow } from '@tresor/auth';
import type { MongoApiTokenStore, SessionService } from '@tresor/auth';
import { ForbiddenError, UnauthenticatedError } from '@tresor/errors';
import { ACCESS_KEY } from './access.decorator.js';
import type { AccessRule, AuthenticatedRequest } from './access.decorator.js';
import { API_TOKENS, SESSIONS } from './auth.tokens.js';

/**
 * The one guard of the gateway, on every route: deny by default (a route that declares no access
 * rule is refused), then a bearer token (a session JWT or an API token) to an identity, then the
 * route's permission against the identity's roles.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(SESSIONS) private readonly sessions: SessionService,
    @Inject(API_TOKENS) private readonly apiTokens: MongoApiTokenStore,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const rule = this.reflector.getAllAndOverride<AccessRule | undefined>(ACCESS_KEY, [ctx.getHandler(), ctx.getClass()]);
    if (!rule) throw new ForbiddenError(`${ctx.getClass().name}.${ctx.getHandler().name} declares no permission: denied by default`);
    if (rule.kind === 'public') return true;
    const req = ctx.switchToHttp().getRequest<AuthenticatedRequest>();
    const header = req.headers.authorization;
    const m = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!m) throw new UnauthenticatedError('authentication required: send Authorization: Bearer <token> (tresor login, or an API token)');
    const token = m[1]!;
    if (token.startsWith(API_TOKEN_PREFIX)) {
      const identity = await this.apiTokens.verify(token);
      if (!identity) throw new UnauthenticatedError('the API token is unknown, revoked or expired');
      req.identity = identity;
    } else {
      req.identity = await this.sessions.verifyAccess(token);
    }
    if (rule.kind === 'permission' && !rolesAllow(req.identity.roles, rule.permission)) {
      throw new ForbiddenError(`${req.identity.name} (${req.identity.roles.join(', ') || 'no role'}) lacks the permission ${rule.permission}`);
    }
    return true;
  }
}
