import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TresorClient } from '@tresor/client';
import type { SessionResponse } from '@tresor/contracts';
import { UnauthenticatedError } from '@tresor/errors';

/** How long `tresor login --sso` waits for the browser to come back. */
const SSO_WAIT_MS = 5 * 60_000;

/**
 * Single sign-on for a native app (RFC 8252): a one-shot HTTP listener on 127.0.0.1 receives the
 * authorization code; PKCE (S256) binds the code to this process and `state` to this request.
 * `show` is given the URL to open in a browser.
 */
export async function ssoLogin(client: TresorClient, show: (url: string) => void): Promise<SessionResponse> {
  const settings = await client.auth.oidcSettings();
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(16).toString('base64url');
  let done: (r: { code: string } | Error) => void = () => undefined;
  const result = new Promise<{ code: string } | Error>((r) => (done = r));
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/callback') return void res.writeHead(404).end();
    const code = url.searchParams.get('code');
    const ok = url.searchParams.get('state') === state && code;
    res.writeHead(ok ? 200 : 400, { 'content-type': 'text/plain; charset=utf-8' }).end(ok ? 'Tresor: signed in. You can close this window.\n' : 'Tresor: sign-in failed; see the terminal.\n');
    done(ok ? { code } : new UnauthenticatedError(`single sign-on failed: ${url.searchParams.get('error_description') ?? url.searchParams.get('error') ?? 'the answer does not belong to this login (state)'}`));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const redirectUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`;
  try {
    const auth = new URL(settings.authorizationEndpoint);
    const params = { client_id: settings.clientId, response_type: 'code', scope: settings.scope, redirect_uri: redirectUri, state, code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256' };
    for (const [k, v] of Object.entries(params)) auth.searchParams.set(k, v);
    show(auth.toString());
    const timer = setTimeout(() => done(new UnauthenticatedError('single sign-on timed out: the browser did not come back within 5 minutes')), SSO_WAIT_MS);
    const r = await result;
    clearTimeout(timer);
    if (r instanceof Error) throw r;
    return await client.auth.oidcLogin(r.code, verifier, redirectUri);
  } finally {
    server.close();
  }
}
