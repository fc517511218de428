import { describe, expect, it } from 'vitest';
import { fromLocalInput, toLocalInput } from './local-time';
import { plural } from './plural';

describe('restore screen helpers', () => {
  it('turns a datetime-local value into ISO UTC and back, and refuses incomplete input', () => {
    const iso = fromLocalInput('2026-11-26T17:09:28');
    expect(iso).toBe(new Date(2026, 10, 26, 17, 9, 28).toISOString());
    expect(toLocalInput(iso!)).toBe('2026-11-26T17:09:28');
    expect(fromLocalInput('2026-11-26T17:09')).toBe(new Date(2026, 10, 26, 17, 9).toISOString());
    expect(fromLocalInput('2026-11-26')).toBeNull();
    expect(fromLocalInput('2026-13-45T99:99')).toBeNull();
  });

  it('counts with the right noun', () => {
    expect(plural(1, 'file')).toBe('1 file');
    expect(plural(0, 'file')).toBe('0 files');
    expect(plural(2, 'entry', 'entries')).toBe('2 entries');
  });
});
