// A local OpenID provider (the `oidc-provider` package) for single sign-on tests, and a
// "browser" that walks its development login and consent pages with fetch.
import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';

export interface TestOidcProvider {
  issuer: string;
  clientId: string;
  close(): Promise<void>;
}

/** Starts a provider on loopback with one public native client and accounts whose `groups` claim is given. */
export async function startOidcProvider(accounts: Record<string, string[]>): Promise<TestOidcProvider> {
  // oidc-provider ships no type declarations; only its constructor and callback() are used here.
  const moduleName = 'oidc-provider';
  const { default: Provider } = (await import(moduleName)) as { default: new (issuer: string, config: object) => { callback(): (req: unknown, res: unknown) => void } };
  const clientId = 'tresor-cli';
  // The port is known only after listen: bind first, then create the provider with that issuer.
  const { createServer } = await import('node:http');
  const app: { handle?: (req: unknown, res: unknown) => void } = {};
  const server: Server = createServer((req, res) => app.handle?.(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    clients: [{ client_id: clientId, application_type: 'native', token_endpoint_auth_method: 'none', redirect_uris: ['http://127.0.0.1/callback'], grant_types: ['authorization_code'], response_types: ['code'] }],
    claims: { openid: ['sub'], profile: ['preferred_username'], groups: ['groups'] },
    pkce: { required: () => true },
    ttl: { Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 600, IdToken: 600, AuthorizationCode: 60 },
    async findAccount(_ctx: unknown, id: string) {
      if (!(id in accounts)) return undefined;
      return { accountId: id, claims: async () => ({ sub: id, preferred_username: id, groups: accounts[id] }) };
    },
  });
  app.handle = provider.callback();
  return { issuer, clientId, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** A PKCE verifier and its S256 challenge. */
export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/**
 * Plays the user's browser from an authorization URL: logs in as `account` on the provider's
 * development pages, consents, and returns the redirect to the client (with code and state).
 */
export async function browseAuthorization(authorizationUrl: string, account: string): Promise<URL> {
  const jar = new Map<string, string>();
  const origin = new URL(authorizationUrl).origin;
  let url = authorizationUrl;
  let form: URLSearchParams | undefined;
  for (let step = 0; step < 12; step++) {
    const r = await fetch(url, {
      method: form ? 'POST' : 'GET',
      redirect: 'manual',
      headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '), ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      ...(form ? { body: form } : {}),
    });
    for (const c of r.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair!.indexOf('=');
      jar.set(pair!.slice(0, i), pair!.slice(i + 1));
    }
    form = undefined;
    const location = r.headers.get('location');
    if (location) {
      const next = new URL(location, url);
      if (next.origin !== origin) return next;
      url = next.toString();
      continue;
    }
    const html = await r.text();
    if (r.status !== 200 || !/\/interaction\//.test(url)) throw new Error(`unexpected provider page ${url}: ${r.status} ${html.slice(0, 300)}`);
    // Development interactions: a login form (any account id), then a consent form.
    form = /name="login"/.test(html) ? new URLSearchParams({ prompt: 'login', login: account, password: 'any' }) : new URLSearchParams({ prompt: 'consent' });
  }
  throw new Error('the provider never redirected back to the client');
}
