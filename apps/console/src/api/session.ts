// Where the console keeps its tokens: the access token in memory only, the refresh token in
// sessionStorage (this tab, gone when it closes) so a reload does not log the user out.
// No cookies: requests carry `Authorization: Bearer`, so there is no CSRF surface.

/** The token pair the gateway issues on login, SSO and refresh. */
export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
}

const REFRESH_KEY = 'tresor.console.refreshToken';
let accessToken: string | null = null;
const listeners = new Set<() => void>();

/** The access token of this page, if logged in. */
export function currentAccessToken(): string | null {
  return accessToken;
}

/** The refresh token of this tab, if any. */
export function currentRefreshToken(): string | null {
  return sessionStorage.getItem(REFRESH_KEY);
}

/** Keep a freshly issued pair. */
export function storeTokens(tokens: TokenPair): void {
  accessToken = tokens.accessToken;
  sessionStorage.setItem(REFRESH_KEY, tokens.refreshToken);
}

/** Forget both tokens and tell the listeners (the app shows the login screen). */
export function clearTokens(): void {
  const hadSession = accessToken !== null || currentRefreshToken() !== null;
  accessToken = null;
  sessionStorage.removeItem(REFRESH_KEY);
  if (hadSession) for (const listener of listeners) listener();
}

/** Call `listener` whenever the session ends (logout, or a refresh the gateway refused). */
export function onSessionEnd(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
