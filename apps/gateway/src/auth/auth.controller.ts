import { Body, Controller, Get, HttpCode, Inject, Post, Req } from '@nestjs/common';
import { permissionsOf } from '@tresor/auth';
import type { Identity, OidcAuthenticator, PasswordLogin, SessionService } from '@tresor/auth';
import { UnsupportedError, UsageError } from '@tresor/errors';
import { parse } from '../core/parse.js';
import { Authenticated, CurrentIdentity, Public } from './access.decorator.js';
import type { AuthenticatedRequest } from './access.decorator.js';
import { loginRequestSchema, oidcRedeemRequestSchema, refreshRequestSchema } from './auth.schema.js';
import { OIDC, PASSWORD_LOGIN, SESSIONS } from './auth.tokens.js';

/** Login, refresh, logout and who-am-I. */
@Controller('v1/auth')
export class AuthController {
  constructor(
    @Inject(PASSWORD_LOGIN) private readonly passwords: PasswordLogin,
    @Inject(SESSIONS) private readonly sessions: SessionService,
    @Inject(OIDC) private readonly oidc: OidcAuthenticator | null,
  ) {}

  @Get('oidc')
  @Public()
  oidcSettings() {
    return this.sso().clientSettings();
  }

  @Post('oidc')
  @HttpCode(200)
  @Public()
  async oidcLogin(@Body() body: unknown) {
    const { code, codeVerifier, redirectUri } = parse(oidcRedeemRequestSchema, body, 'POST /v1/auth/oidc');
    return this.sessions.issue(await this.sso().redeem(code, codeVerifier, redirectUri));
  }

  private sso(): OidcAuthenticator {
    if (!this.oidc) throw new UnsupportedError('single sign-on is not configured on this gateway (TRESOR_OIDC_ISSUER)');
    return this.oidc;
  }

  @Post('login')
  @HttpCode(200)
  @Public()
  async login(@Body() body: unknown, @Req() req: AuthenticatedRequest) {
    const { username, password } = parse(loginRequestSchema, body, 'POST /v1/auth/login');
    return this.sessions.issue(await this.passwords.login(username, password, req.ip));
  }

  @Post('refresh')
  @HttpCode(200)
  @Public()
  refresh(@Body() body: unknown) {
    return this.sessions.refresh(parse(refreshRequestSchema, body, 'POST /v1/auth/refresh').refreshToken);
  }

  @Post('logout')
  @HttpCode(204)
  @Authenticated()
  async logout(@CurrentIdentity() who: Identity & { sid?: string }) {
    if (!who.sid) throw new UsageError('an API token has no session to log out of: revoke it (tresor tokens revoke)');
    await this.sessions.revoke(who.sid);
  }

  @Get('me')
  @Authenticated()
  me(@CurrentIdentity() who: Identity) {
    return { subject: who.subject, name: who.name, kind: who.kind, roles: who.roles, tenants: who.tenants, permissions: permissionsOf(who.roles) };
  }
}
