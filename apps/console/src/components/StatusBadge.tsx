// A status as text plus colour (never colour alone), so it reads without colour vision.

export type Tone = 'ok' | 'warn' | 'bad' | 'info' | 'neutral';

const TONES: Record<string, Tone> = {
  ok: 'ok', up: 'ok', healthy: 'ok', succeeded: 'ok', success: 'ok', completed: 'ok', verified: 'ok', fresh: 'ok', approved: 'ok', pass: 'ok', passed: 'ok',
  warning: 'warn', warn: 'warn', degraded: 'warn', stale: 'warn', pending: 'warn', partial: 'warn', expiring: 'warn',
  failed: 'bad', failure: 'bad', error: 'bad', down: 'bad', critical: 'bad', rejected: 'bad', overdue: 'bad', missing: 'bad', fail: 'bad', unreachable: 'bad',
  running: 'info', queued: 'info', started: 'info', active: 'info', firing: 'bad', info: 'info',
};

/** The tone a status word maps to (unknown words are neutral). */
export function toneOf(status: string): Tone {
  return TONES[status.toLowerCase()] ?? 'neutral';
}

/** `status` as a badge; `tone` overrides the colour derived from the word, `label` the text shown. */
export function StatusBadge({ status, tone, label }: { status: string; tone?: Tone; label?: string }) {
  return <span className={`badge badge-${tone ?? toneOf(status)}`}>{label ?? status}</span>;
}
