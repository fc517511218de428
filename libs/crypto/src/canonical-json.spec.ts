import { describe, expect, it } from 'vitest';
import { UsageError } from '@tresor/errors';
import { canonicalJson } from './canonical-json.js';

describe('canonicalJson', () => {
  it('sorts keys recursively and drops whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: true, y: null }], c: 'x' } })).toBe(
      '{"a":{"c":"x","d":[3,{"y":null,"z":true}]},"b":1}',
    );
  });

  it('is independent of insertion order', () => {
    expect(canonicalJson({ x: 1, y: 2 })).toBe(canonicalJson({ y: 2, x: 1 }));
  });

  it('omits undefined properties and escapes strings like JSON', () => {
    expect(canonicalJson({ a: undefined, b: 'é\n"\u0000' })).toBe('{"b":"é\\n\\"\\u0000"}');
  });

  it('sorts keys by UTF-16 code units', () => {
    expect(canonicalJson({ b: 1, B: 2, '\u00e9': 3, a: 4 })).toBe('{"B":2,"a":4,"b":1,"é":3}');
  });

  it.each([
    [NaN, /non-finite number NaN at \$/],
    [{ a: [1, Infinity] }, /non-finite number Infinity at \$\.a\[1\]/],
    [[undefined], /type undefined/],
    [{ n: 10n }, /type bigint/],
    [{ d: new Date(0) }, /Date object/],
  ])('refuses %s', (value, message) => {
    expect(() => canonicalJson(value)).toThrow(UsageError);
    expect(() => canonicalJson(value)).toThrow(message);
  });

  it('refuses cycles but accepts shared references', () => {
    const shared = { k: 1 };
    expect(canonicalJson({ a: shared, b: shared })).toBe('{"a":{"k":1},"b":{"k":1}}');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(/cycle/);
  });
});
