import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browseAuthorization, pkcePair, startOidcProvider } from '../../../test/support/oidc.js';
import type { TestOidcProvider } from '../../../test/support/oidc.js';
import { parseAuthConfig } from './config.js';
import { OidcAuthenticator } from './oidc.js';

describe('OidcAuthenticator (oidc-provider on loopback, code + PKCE)', () => {
  let op: TestOidcProvider;
  beforeAll(async () => {
    op = await startOidcProvider({ 'sam.sso': ['tresor-auditors'], 'nina.nogroup': ['unrelated'] });
  });
  afterAll(() => op.close());

  const authenticator = () => {
    const c = parseAuthConfig({ oidc: { issuer: op.issuer, clientId: op.clientId }, groupMap: { 'tresor-auditors': { roles: ['auditor'], tenants: ['payments'] } } });
    return new OidcAuthenticator(c.oidc!, c.groupMap);
  };
  const codeFor = async (account: string, redirectUri: string) => {
    const a = authenticator();
    const s = await a.clientSettings();
    const { verifier, challenge } = pkcePair();
    const url = new URL(s.authorizationEndpoint);
    for (const [k, v] of Object.entries({ client_id: s.clientId, response_type: 'code', scope: s.scope, redirect_uri: redirectUri, code_challenge: challenge, code_challenge_method: 'S256', state: 'st' })) url.searchParams.set(k, v);
    const back = await browseAuthorization(url.toString(), account);
    expect(back.searchParams.get('state')).toBe('st');
    return { a, code: back.searchParams.get('code')!, verifier };
  };

  it('maps the groups claim to roles and tenants', async () => {
    const redirect = 'http://127.0.0.1:45678/callback';
    const { a, code, verifier } = await codeFor('sam.sso', redirect);
    expect(await a.redeem(code, verifier, redirect)).toEqual({ subject: 'oidc:sam.sso', name: 'sam.sso', kind: 'oidc', roles: ['auditor'], tenants: ['payments'] });
  });

  it('refuses a wrong PKCE verifier, a reused code and a user without a mapped group', async () => {
    const redirect = 'http://127.0.0.1:45679/callback';
    const first = await codeFor('sam.sso', redirect);
    await expect(first.a.redeem(first.code, pkcePair().verifier, redirect)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    const second = await codeFor('sam.sso', redirect);
    await second.a.redeem(second.code, second.verifier, redirect);
    await expect(second.a.redeem(second.code, second.verifier, redirect)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    const none = await codeFor('nina.nogroup', redirect);
    await expect(none.a.redeem(none.code, none.verifier, redirect)).rejects.toThrow(/no Tresor role/);
    await expect(none.a.redeem('x', none.verifier, 'https://evil.example/cb')).rejects.toThrow(/loopback/);
  });

  it('accepts a web client\'s redirect only when it is one of the configured redirect URIs', async () => {
    const c = parseAuthConfig({ oidc: { issuer: op.issuer, clientId: op.clientId, redirectUris: ['https://tresor.example/callback'] }, groupMap: {} });
    const a = new OidcAuthenticator(c.oidc!, c.groupMap);
    const { verifier } = pkcePair();
    // Past the redirect check, the provider refuses the made-up code: the configured URI was let through.
    await expect(a.redeem('made-up-code', verifier, 'https://tresor.example/callback')).rejects.toThrow(/did not accept the authorization code/);
    await expect(a.redeem('made-up-code', verifier, 'https://tresor.example/callback/other')).rejects.toThrow(/TRESOR_OIDC_REDIRECT_URIS/);
    expect(() => parseAuthConfig({ oidc: { issuer: op.issuer, clientId: op.clientId, redirectUris: ['javascript:alert(1)'] } })).toThrow();
  });
});
