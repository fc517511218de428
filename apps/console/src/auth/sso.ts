// Single sign-on from the browser: OpenID Connect authorization code with PKCE (S256). The verifier
// and `state` wait in sessionStorage for the provider to send the browser back to /callback; the
// gateway redeems the code (it holds any client secret) and issues the usual token pair.
import { api } from '../api/client';
import type { TokenPair } from '../api/session';

/** GET /v1/auth/oidc. */
export interface SsoSettings {
  authorizationEndpoint: string;
  clientId: string;
  scope: string;
}

/** The path the provider redirects back to; register `<console origin>/callback` with the provider. */
export const CALLBACK_PATH = '/callback';
const PENDING_KEY = 'tresor.console.sso';

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function randomToken(bytes: number): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** Where the provider sends the browser back to. */
export function redirectUri(): string {
  return `${window.location.origin}${CALLBACK_PATH}`;
}

/** Start the SSO login: remember verifier and state, go to the provider. */
export async function startSso(settings: SsoSettings): Promise<void> {
  const verifier = randomToken(32);
  const state = randomToken(16);
  const challenge = base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
  sessionStorage.setItem(PENDING_KEY, JSON.stringify({ verifier, state }));
  const url = new URL(settings.authorizationEndpoint);
  const params = { client_id: settings.clientId, response_type: 'code', scope: settings.scope, redirect_uri: redirectUri(), state, code_challenge: challenge, code_challenge_method: 'S256' };
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  window.location.assign(url.toString());
}

/** Whether this page is the provider's redirect back to us. */
export function isSsoCallback(): boolean {
  const params = new URLSearchParams(window.location.search);
  return window.location.pathname === CALLBACK_PATH && (params.has('code') || params.has('error'));
}

/** Finish the SSO login on /callback: check state, redeem code + verifier at the gateway. Throws with a one-line reason. */
export async function finishSso(): Promise<TokenPair> {
  const params = new URLSearchParams(window.location.search);
  const pending = JSON.parse(sessionStorage.getItem(PENDING_KEY) ?? 'null') as { verifier: string; state: string } | null;
  sessionStorage.removeItem(PENDING_KEY);
  const error = params.get('error_description') ?? params.get('error');
  if (error) throw new Error(`single sign-on failed: ${error}`);
  if (!pending || params.get('state') !== pending.state) throw new Error('single sign-on failed: the answer does not belong to a login started here (state)');
  return api<TokenPair>('/auth/oidc', { method: 'POST', body: { code: params.get('code'), codeVerifier: pending.verifier, redirectUri: redirectUri() } });
}
