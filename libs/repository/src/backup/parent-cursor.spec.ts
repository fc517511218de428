import { describe, expect, it } from 'vitest';
import type { Entry } from '@tresor/archive';
import { compareUtf8, ParentCursor } from './parent-cursor.js';

const entry = (path: string): Entry => ({ path, type: 'file', mode: 0o600, uid: 0, gid: 0, mtimeNs: '0', size: 0, ino: 1 });

async function* entries(paths: string[]): AsyncGenerator<Entry> {
  // Byte order of the UTF-8 path, as the catalog returns them.
  const sorted = [...paths].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  for (const path of sorted) yield entry(path);
}

describe('ParentCursor', () => {
  it('finds paths asked for in byte order, skipping deleted ones and reporting new ones, with their index', async () => {
    const cursor = new ParentCursor(entries(['a-b', 'a/x', 'a0', 'z/\uFFFD', 'z/\u{1F511}', 'zz']));
    const found = async (path: string) => {
      const hit = await cursor.find(path);
      return hit && [hit.entry.path, hit.position];
    };
    expect(await found('a-b')).toEqual(['a-b', 0]);
    expect(await found('a/new')).toBeUndefined();
    expect(await found('a/x')).toEqual(['a/x', 1]);
    // 'a0' was deleted from the source: not asked for, passed over (index 2, so z/ is no neighbour of a/x).
    expect(await found('b')).toBeUndefined();
    // U+FFFD sorts before U+1F511 in UTF-8 bytes, though not in UTF-16 code units.
    expect(await found('z/\uFFFD')).toEqual(['z/\uFFFD', 3]);
    expect(await found('z/\u{1F511}')).toEqual(['z/\u{1F511}', 4]);
    expect(await found('zz')).toEqual(['zz', 5]);
    expect(await found('zzz')).toBeUndefined();
  });

  it('answers without a promise between refills, and keeps positions across them', async () => {
    const paths = Array.from({ length: 1000 }, (_, i) => `k/${String(i).padStart(4, '0')}`);
    const cursor = new ParentCursor(entries(paths));
    let immediate = 0;
    // Every third path asked for (the rest deleted from the source), and a new one between.
    for (let i = 0; i < paths.length; i += 3) {
      const answer = cursor.find(paths[i]!);
      if (!(answer instanceof Promise)) immediate++;
      expect(await answer).toEqual({ entry: entry(paths[i]!), position: i });
      expect(await cursor.find(`${paths[i]!}-new`)).toBeUndefined();
    }
    expect(immediate).toBeGreaterThan(300);
  });

  it('finds nothing without a parent', async () => {
    expect(await new ParentCursor(undefined).find('a')).toBeUndefined();
  });
});

describe('compareUtf8', () => {
  const byBytes = (a: string, b: string) => Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b)));
  it('orders as the UTF-8 bytes do, around and past the surrogates', () => {
    const samples = ['', 'a', 'a/b', 'a-b', 'a0', 'ab', '\u007f', '\u0080', '\u07ff', '\u0800', '\ud7ff', '\ue000', '\uffff', '\uFFFD', '\u{10000}', '\u{1F511}', '\u{1F512}', '\u{1F511}a', 'k\u{1F511}', 'k\uFFFD', 'k\u{10FFFF}', 'k\u{F0000}x'];
    for (const a of samples) for (const b of samples) expect(Math.sign(compareUtf8(a, b)), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`).toBe(byBytes(a, b));
  });
});
