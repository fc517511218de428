import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration, formatUtc, toDate } from './format';

describe('console formatting', () => {
  it('shows sizes with binary units', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(12 * 1024 * 1024)).toBe('12 MiB');
    expect(formatBytes(150 * 1024 ** 3)).toBe('150 GiB');
  });

  it('shows durations as their two largest units', () => {
    expect(formatDuration(350)).toBe('350 ms');
    expect(formatDuration(4_200)).toBe('4.2 s');
    expect(formatDuration(200_000)).toBe('3 min 20 s');
    expect(formatDuration(2 * 3_600_000 + 5 * 60_000 + 7_000)).toBe('2 h 5 min');
    expect(formatDuration(3 * 86_400_000)).toBe('3 d');
  });

  it('shows UTC on hover and rejects what is not a time', () => {
    expect(formatUtc(new Date('2026-11-26T15:04:05.123Z'))).toBe('2026-11-26 15:04:05 UTC');
    expect(toDate('not a time')).toBeNull();
  });
});
