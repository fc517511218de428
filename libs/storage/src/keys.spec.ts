import { UsageError } from '@tresor/errors';
import { describe, expect, it } from 'vitest';
import { validateKeyPrefix, validateObjectKey } from './keys.js';

describe('validateObjectKey', () => {
  it.each(['a', 'archives/0f3a.tra', 'manifests/2024-01-01T00.json', '.hidden/x_y-z.1'])(
    'accepts %j',
    (key) => {
      expect(() => validateObjectKey(key)).not.toThrow();
    },
  );

  it.each([
    '',
    '/a',
    'a/',
    'a//b',
    '..',
    'a/../b',
    'a/./b',
    'a b',
    'a\\b',
    'é',
    `${'s'.repeat(256)}`,
    'x/'.repeat(600),
  ])('rejects %j', (key) => {
    expect(() => validateObjectKey(key)).toThrow(UsageError);
  });

  it('names the key and the rule it breaks in one line', () => {
    expect(() => validateObjectKey('a/../b')).toThrow('object key "a/../b" contains a \'..\' segment');
  });
});

describe('validateKeyPrefix', () => {
  it.each(['', 'archives/', 'archives/ab', 'a'])('accepts %j', (prefix) => {
    expect(() => validateKeyPrefix(prefix)).not.toThrow();
  });

  it.each(['/', '../', 'a//', 'a b'])('rejects %j', (prefix) => {
    expect(() => validateKeyPrefix(prefix)).toThrow(UsageError);
  });
});
