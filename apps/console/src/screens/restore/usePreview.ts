// The live preview of a restore: which entries its patterns select at the chosen point in time,
// asked of the gateway (GET /v1/restores/preview) a moment after the user stops typing.
import { useEffect, useState } from 'react';
import type { ApiError } from '../../api/client';
import { useApi } from '../../api/useApi';

/** GET /v1/restores/preview. */
export interface RestorePreview {
  backup: { id: string; createdAt: string; level: string; source: string };
  sensitive: boolean;
  entries: { path: string; type: 'file' | 'dir' | 'symlink'; size: number }[];
  totals: { entries: number; files: number; dirs: number; symlinks: number; bytes: number };
  truncated: boolean;
}

/** What to restore: a source, a point in time, include and exclude patterns. */
export interface Selection {
  source: string;
  at: string;
  include: string[];
  exclude: string[];
}

const DEBOUNCE_MS = 300;
const LISTED = 200;

/** `*.key, team1/` → ['*.key', 'team1/']. */
export function patterns(text: string): string[] {
  return text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
}

/** `value`, once it has stayed the same for `ms`. */
function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}

/** The preview path of a selection (repeated include/exclude parameters), or null while incomplete. */
function previewPath(key: string): string | null {
  if (!key) return null;
  const s = JSON.parse(key) as Selection;
  const query = new URLSearchParams({ source: s.source, at: s.at, limit: String(LISTED) });
  for (const p of s.include) query.append('include', p);
  for (const p of s.exclude) query.append('exclude', p);
  return `/restores/preview?${query.toString()}`;
}

/** The preview of `selection` (none while incomplete), refreshed a moment after it stops changing. */
export function usePreview(selection: Selection | null): { preview: RestorePreview | undefined; error: ApiError | undefined; loading: boolean } {
  const key = useDebounced(selection ? JSON.stringify(selection) : '', DEBOUNCE_MS);
  const { data, error, loading } = useApi<RestorePreview>(previewPath(key));
  return { preview: data, error, loading };
}
