// Formatting of times, sizes and durations: one place, so every screen shows units the same way.

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** Bytes with a binary unit: 0 B, 512 B, 1.5 KiB, 12 MiB. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return '—';
  let value = Math.abs(bytes);
  let unit = 0;
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${bytes < 0 ? '-' : ''}${trimZeros(value.toFixed(digits))} ${BYTE_UNITS[unit]}`;
}

/** A duration in ms as the two largest units: 350 ms, 4.2 s, 3 min 20 s, 2 h 5 min, 3 d 4 h. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  const sign = ms < 0 ? '-' : '';
  const abs = Math.abs(ms);
  if (abs < 1000) return `${sign}${Math.round(abs)} ms`;
  if (abs < 60_000) return `${sign}${trimZeros((abs / 1000).toFixed(1))} s`;
  const parts: [number, string][] = [
    [Math.floor(abs / 86_400_000), 'd'],
    [Math.floor(abs / 3_600_000) % 24, 'h'],
    [Math.floor(abs / 60_000) % 60, 'min'],
    [Math.floor(abs / 1000) % 60, 's'],
  ];
  const first = parts.findIndex(([n]) => n > 0);
  const shown = parts.slice(first, first + 2).filter(([n]) => n > 0);
  return sign + shown.map(([n, unit]) => `${n} ${unit}`).join(' ');
}

/** A count with the user's digit grouping: 12,345. */
export function formatCount(n: number): string {
  return new Intl.NumberFormat().format(n);
}

/** A date-time in the user's time zone (or `timeZone`), medium date and time. */
export function formatLocalTime(value: Date, timeZone?: string): string {
  return new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium', ...(timeZone ? { timeZone } : {}) }).format(value);
}

/** The UTC ISO form shown on hover: 2026-11-26 15:04:05 UTC. */
export function formatUtc(value: Date): string {
  return `${value.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** Parse an ISO string / epoch ms / Date; invalid input yields null. */
export function toDate(value: string | number | Date): Date | null {
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

function trimZeros(fixed: string): string {
  return fixed.includes('.') ? fixed.replace(/\.?0+$/, '') : fixed;
}
