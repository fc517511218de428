import { describe, expect, it } from 'vitest';
import { IntegrityError } from '@tresor/errors';
import { quotePath, validateEntryPath } from './paths.js';

describe('validateEntryPath', () => {
  it.each(['a', 'a/b/c.pem', '.hidden/key', 'a..b/..c', 'x y/é'])('accepts %s', (path) => {
    expect(() => validateEntryPath(path)).not.toThrow();
  });

  it.each([
    ['../x', /has a '\.\.' segment/],
    ['a/../../x', /has a '\.\.' segment/],
    ['/etc/passwd', /it is absolute/],
    ['a//b', /empty segment/],
    ['a/./b', /has a '\.' segment/],
    ['a/..', /has a '\.\.' segment/],
    ['a/.', /has a '\.' segment/],
    ['..', /has a '\.\.' segment/],
    ['.', /has a '\.' segment/],
    ['a/', /empty segment/],
    ['a\0b', /NUL byte/],
    ['', /it is empty/],
    ['C:/Windows', /Windows drive letter/],
    ['c:x', /Windows drive letter/],
    ['a\\..\\..\\x', /backslash/],
    ['a/'.repeat(2049) + 'b', /longer than 4096 bytes/],
    ['é'.repeat(2049), /longer than 4096 bytes/],
  ])('refuses %j', (path, message) => {
    expect(() => validateEntryPath(path)).toThrow(IntegrityError);
    expect(() => validateEntryPath(path)).toThrow(message);
  });

  it('names the path in one line', () => {
    expect(() => validateEntryPath('../x')).toThrow("unsafe entry path '../x': it has a '..' segment");
    expect(quotePath('a\nb\0')).toBe("'a\\u000ab\\u0000'");
  });
});
