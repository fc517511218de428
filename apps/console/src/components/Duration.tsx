import { formatDuration } from './format';

/** A duration in milliseconds with units (350 ms, 3 min 20 s). */
export function Duration({ ms }: { ms: number | null | undefined }) {
  if (ms === null || ms === undefined) return <span>—</span>;
  return <span>{formatDuration(ms)}</span>;
}
