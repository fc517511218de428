import type { ReactNode } from 'react';
import type { ApiError } from '../api/client';

/** A status line: loading (polite live region), error (alert), or info. */
export function Notice({ kind, children }: { kind: 'loading' | 'error' | 'info'; children: ReactNode }) {
  if (kind === 'error') return <p className="notice notice-error" role="alert">{children}</p>;
  return <p className={`notice notice-${kind}`} role="status">{children}</p>;
}

/** Loading, or the gateway's error, for a useApi() state; renders nothing once data is there. */
export function LoadState({ loading, error, what }: { loading: boolean; error: ApiError | undefined; what: string }) {
  if (error) return <Notice kind="error">Could not load {what}: {error.message}</Notice>;
  if (loading) return <Notice kind="loading">Loading {what}…</Notice>;
  return null;
}
