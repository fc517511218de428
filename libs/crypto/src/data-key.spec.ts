import { describe, expect, it } from 'vitest';
import { DATA_KEY_SIZE, generateDataKey } from './data-key.js';

describe('generateDataKey', () => {
  it('returns 32 fresh random bytes each time', () => {
    const a = generateDataKey();
    expect(a.length).toBe(DATA_KEY_SIZE);
    expect(a.equals(generateDataKey())).toBe(false);
  });
});
