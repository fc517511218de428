import { createRemoteJWKSet, jwtVerify } from 'jose';
import { IoError, UnauthenticatedError, UnavailableError, registerSecret } from '@tresor/errors';
import type { AuthConfig } from './config.js';
import { grantsOf } from './auth.service.js';
import type { Identity } from './identity.js';

/** Where a client sends the user: what `tresor login --sso` needs to start the code flow. */
export interface OidcClientSettings {
  readonly authorizationEndpoint: string;
  readonly clientId: string;
  readonly scope: string;
}

interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  userinfo_endpoint?: string;
  jwks_uri: string;
}

type OidcConfig = NonNullable<AuthConfig['oidc']>;

/**
 * OpenID Connect single sign-on (authorization code with PKCE): the CLI runs the browser leg and
 * hands the code and its verifier to the gateway, which redeems them at the provider, verifies
 * the ID token against the provider's keys, and maps the groups claim to roles and tenants with
 * the same group map as LDAP.
 */
export class OidcAuthenticator {
  private discovery: Promise<Discovery> | undefined;
  private jwks: ReturnType<typeof createRemoteJWKSet> | undefined;

  constructor(
    private readonly config: OidcConfig,
    private readonly groupMap: AuthConfig['groupMap'],
  ) {}

  /** The provider's authorization endpoint and the client id to use there. */
  async clientSettings(): Promise<OidcClientSettings> {
    const d = await this.discover();
    return { authorizationEndpoint: d.authorization_endpoint, clientId: this.config.clientId, scope: this.config.scope };
  }

  /** Redeems an authorization code (with its PKCE verifier) for a verified identity. */
  async redeem(code: string, codeVerifier: string, redirectUri: string): Promise<Identity> {
    // The code and verifier together are a login: keep both out of anything this process writes.
    registerSecret(code);
    registerSecret(codeVerifier);
    // The CLI listens on loopback (RFC 8252); web clients such as the console use exactly the URIs configured.
    const loopback = /^http:\/\/(127\.0\.0\.1|\[::1\]|localhost)(:\d+)?\//.test(redirectUri);
    if (!loopback && !this.config.redirectUris.includes(redirectUri)) throw new UnauthenticatedError('the SSO redirect must go to a loopback address (RFC 8252) or be one of TRESOR_OIDC_REDIRECT_URIS');
    const d = await this.discover();
    const body = new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: codeVerifier, redirect_uri: redirectUri, client_id: this.config.clientId });
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    if (this.config.clientSecret) headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(this.config.clientId)}:${encodeURIComponent(this.config.clientSecret)}`).toString('base64')}`;
    const tokenResponse = await this.fetchJson(d.token_endpoint, { method: 'POST', headers, body });
    if (!tokenResponse.ok) throw new UnauthenticatedError('single sign-on failed: the provider did not accept the authorization code');
    const tokens = tokenResponse.json as { id_token?: string; access_token?: string };
    if (!tokens.id_token) throw new UnauthenticatedError('single sign-on failed: the provider returned no ID token');
    this.jwks ??= createRemoteJWKSet(new URL(d.jwks_uri));
    let claims: Record<string, unknown>;
    try {
      ({ payload: claims } = await jwtVerify(tokens.id_token, this.jwks, { issuer: d.issuer, audience: this.config.clientId }));
    } catch {
      throw new UnauthenticatedError('single sign-on failed: the ID token does not verify');
    }
    // Many providers put groups in the ID token; others (and oidc-provider by default) only in userinfo.
    if (claims[this.config.groupsClaim] === undefined && d.userinfo_endpoint && tokens.access_token) {
      const info = await this.fetchJson(d.userinfo_endpoint, { headers: { authorization: `Bearer ${tokens.access_token}`, accept: 'application/json' } });
      const extra = info.json as Record<string, unknown>;
      if (info.ok && extra.sub === claims.sub) claims = { ...extra, ...claims };
    }
    const raw = claims[this.config.groupsClaim];
    const groups = Array.isArray(raw) ? raw.filter((g): g is string => typeof g === 'string') : [];
    const { roles, tenants } = grantsOf(groups, this.groupMap);
    if (roles.length === 0) throw new UnauthenticatedError('single sign-on: your groups grant no Tresor role');
    const name = typeof claims.preferred_username === 'string' ? claims.preferred_username : String(claims.sub);
    return { subject: `oidc:${String(claims.sub)}`, name, kind: 'oidc', roles, tenants };
  }

  private discover(): Promise<Discovery> {
    return (this.discovery ??= (async () => {
      const r = await this.fetchJson(`${this.config.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`, {});
      if (!r.ok) throw new IoError(`OpenID provider ${this.config.issuer} answered its discovery document with HTTP ${r.status}`);
      return r.json as Discovery;
    })().catch((err: unknown) => {
      this.discovery = undefined;
      throw err;
    }));
  }

  private async fetchJson(url: string, init: RequestInit): Promise<{ ok: boolean; status: number; json: unknown }> {
    let r: Response;
    try {
      r = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
    } catch (err) {
      throw new UnavailableError(`cannot reach the OpenID provider at ${new URL(url).origin}: ${(err as Error).message}`, { cause: err });
    }
    return { ok: r.ok, status: r.status, json: await r.json().catch(() => ({})) };
  }
}
