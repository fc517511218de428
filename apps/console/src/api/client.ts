// The one way the console talks to the gateway: base `/v1`, the bearer token, one refresh and
// retry on 401, and the gateway's one-line error message as a typed ApiError.
import { clearTokens, currentAccessToken, currentRefreshToken, storeTokens } from './session';
import type { TokenPair } from './session';

/** A gateway error: HTTP status, the error code (USAGE, NOT_FOUND, FORBIDDEN…) and its one-line message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export type Query = Record<string, string | number | boolean | undefined | null>;

/** Options of one request. */
export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  query?: Query;
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

const BASE = '/v1';
let refreshing: Promise<boolean> | null = null;

/** `/v1` + path + query string. */
export function apiUrl(path: string, query?: Query): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  }
  const qs = search.toString();
  return `${BASE}${path}${qs ? `?${qs}` : ''}`;
}

/** Exchange the refresh token for a new pair; concurrent 401s share one exchange. */
export function refreshSession(): Promise<boolean> {
  refreshing ??= (async () => {
    const refreshToken = currentRefreshToken();
    if (!refreshToken) return false;
    const res = await fetch(apiUrl('/auth/refresh'), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ refreshToken }),
    }).catch(() => null);
    if (!res?.ok) {
      // A refresh token is single-use: a refused one will never work again.
      if (res) clearTokens();
      return false;
    }
    storeTokens((await res.json()) as TokenPair);
    return true;
  })().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

function send(path: string, options: RequestOptions): Promise<Response> {
  const headers: Record<string, string> = { Accept: 'application/json', ...options.headers };
  const token = currentAccessToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  const init: RequestInit = { method: options.method ?? 'GET', headers, cache: 'no-store' };
  if (options.signal) init.signal = options.signal;
  if (options.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(options.body);
  }
  return fetch(apiUrl(path, options.query), init);
}

/** Fetch with the session's token; on 401 refresh once and retry. Returns the raw Response. */
export async function authorizedFetch(path: string, givenOptions: RequestOptions = {}): Promise<Response> {
  let options = givenOptions;
  // One Idempotency-Key for both attempts: a POST retried after the refresh cannot run twice.
  // getRandomValues, not randomUUID: the latter exists only in secure contexts (HTTPS or loopback).
  if (options.method === 'POST' && !options.headers?.['Idempotency-Key']) {
    const key = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
    options = { ...options, headers: { ...options.headers, 'Idempotency-Key': key } };
  }
  const sentWith = currentAccessToken();
  const res = await send(path, options);
  if (res.status !== 401 || !currentRefreshToken()) return res;
  // Another request refreshed meanwhile: use its new token rather than spend the refresh token again.
  if (currentAccessToken() === sentWith && !(await refreshSession())) return res;
  return send(path, options);
}

/** Turn a failed response into an ApiError carrying the gateway's message. */
export async function errorOf(res: Response): Promise<ApiError> {
  const body = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
  const code = body?.error?.code ?? `HTTP_${res.status}`;
  const message = body?.error?.message ?? `${res.status} ${res.statusText || 'request failed'}`;
  if (res.status === 401) clearTokens();
  return new ApiError(res.status, code, message);
}

/** A JSON request; resolves to the parsed body (undefined on 204) or throws ApiError. */
export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const res = await authorizedFetch(path, options).catch((cause: unknown) => {
    if (cause instanceof DOMException && cause.name === 'AbortError') throw cause;
    throw new ApiError(0, 'NETWORK', 'the gateway cannot be reached');
  });
  if (!res.ok) throw await errorOf(res);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}
