import { createHash } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { buffer } from 'node:stream/consumers';
import { afterAll, describe, expect, it } from 'vitest';
import { dirEntry, leftovers, makeTmpDir, removeTmpDirs, toArray } from './archive.fixtures.js';
import { canonicalJson } from '@tresor/crypto';
import { IntegrityError } from '@tresor/errors';
import type { Entry } from './entry.js';
import { parseEntry } from './entry-schema.js';
import { EntrySpill, entryJson } from './entry-spill.js';
import type { InheritedRun } from './entry-spill.js';

afterAll(removeTmpDirs);

/** A directory's entry as the writer hands it to the spill: checked. */
const checkedDir = (path: string) => parseEntry(dirEntry(path));

describe('EntrySpill', () => {
  it('writes canonical NDJSON to a private file and hashes exactly those bytes', async () => {
    const tmp = await makeTmpDir();
    const spill = await EntrySpill.create(tmp);
    const [dir] = await leftovers(tmp);
    expect(((await stat(`${tmp}/${dir}`)).mode & 0o777).toString(8)).toBe('700');
    await spill.append(checkedDir('b'));
    await spill.append(checkedDir('a'));
    const table = await spill.seal();
    const bytes = await buffer(spill.open());
    expect(table).toEqual({
      count: 2,
      length: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    });
    const lines = bytes.toString().split('\n');
    expect(lines).toHaveLength(3);
    expect(
      lines[0]!.startsWith('{"gid":1000,"ino":7,"mode":16832,"mtimeNs":"1764132780000000000","path":"b"'),
    ).toBe(true);
    await spill.dispose();
    await spill.dispose();
    expect(await leftovers(tmp)).toEqual([]);
  });

  it('keeps every line, in order, across the chunks it writes in, without waiting on each append', async () => {
    const tmp = await makeTmpDir();
    const spill = await EntrySpill.create(tmp);
    // ~2.5 MB of two-byte characters: read back in more than one 1 MiB chunk, split inside a character.
    const entries = Array.from({ length: 12000 }, (_, i) => checkedDir(`d/${String(i).padStart(5, '0')}/${'\u00e9'.repeat(51)}`));
    for (const entry of entries) void spill.append(entry);
    const table = await spill.seal();
    const bytes = await buffer(spill.open());
    const expected = Buffer.from(entries.map((e) => `${canonicalJson(e)}\n`).join(''));
    expect(bytes.equals(expected)).toBe(true);
    expect(table).toEqual({ count: 12000, length: expected.length, sha256: createHash('sha256').update(expected).digest('hex') });
    expect((await toArray(spill.entries())).map((e) => e.path)).toEqual(entries.map((e) => e.path));
    await spill.dispose();
  });

  it('tells the table consumer which lines of each chunk are inherited, in runs of parent neighbours', async () => {
    const tmp = await makeTmpDir();
    const seen: { lines: number; runs: InheritedRun[] }[] = [];
    const spill = await EntrySpill.create(tmp, (chunk, runs) => {
      seen.push({ lines: Buffer.from(chunk).toString().split('\n').length - 1, runs: [...runs] });
    });
    const entry = (i: number) => checkedDir(`d/${String(i).padStart(5, '0')}/${'x'.repeat(1000)}`);
    // Lines 0-2 inherited and neighbours, 3 not, 4-5 inherited but 5 not next to 4 in the parent,
    // then inherited neighbours until the chunk ends and on into the next chunk.
    const marks = [true, 'adjacent', 'adjacent', undefined, true, true, ...Array(600).fill('adjacent')] as const;
    for (const [i, mark] of marks.entries()) await spill.append(entry(i), mark === undefined ? undefined : { adjacent: mark === 'adjacent' });
    await spill.seal();
    expect(seen.length).toBe(3);
    const [first, second] = seen as [(typeof seen)[0], (typeof seen)[0]];
    expect(first.runs).toEqual([
      { first: 0, count: 3 },
      { first: 4, count: 1 },
      { first: 5, count: first.lines - 5 },
    ]);
    // A run does not go on across chunks: the next chunk starts its own.
    expect(second.runs).toEqual([{ first: 0, count: second.lines }]);
    expect(seen.reduce((n, s) => n + s.lines, 0)).toBe(marks.length);
    await spill.dispose();
  });

  it('reads back only the table it wrote: a spill file changed after sealing fails before its last entry', async () => {
    const tmp = await makeTmpDir();
    const spill = await EntrySpill.create(tmp);
    for (const name of ['a', 'b', 'c']) await spill.append(checkedDir(name));
    await spill.seal();
    const [dir] = await leftovers(tmp);
    const file = `${tmp}/${dir}/entries.ndjson`;
    const original = await readFile(file, 'utf8');
    await writeFile(file, original.replace('"path":"b"', '"path":"x"'));
    const seen: string[] = [];
    const reading = (async () => {
      for await (const entry of spill.entries()) seen.push(entry.path);
    })();
    await expect(reading).rejects.toThrow(IntegrityError);
    await expect(reading).rejects.toThrow(/changed after it was written/);
    expect(seen).toEqual(['a', 'x']);
    await writeFile(file, original);
    expect((await toArray(spill.entries())).map((e) => e.path)).toEqual(['a', 'b', 'c']);
    await spill.dispose();
  });

  it('writes each checked entry exactly as canonicalJson would, escaping only its path and link target', () => {
    const file: Entry = {
      ...dirEntry('k/\u00e9\u{1F511} "q"\u0001\n.pem\u007f\u2028'),
      type: 'file',
      size: Number.MAX_SAFE_INTEGER,
      ino: 2 ** 60,
      mtimeNs: '-5',
      sha256: 'a'.repeat(64),
      data: { backupId: 'b1', offset: 0, length: 10, codec: 'zstd' },
    };
    const variants: Entry[] = [
      file,
      dirEntry('d'),
      { ...dirEntry('l\ttab'), type: 'symlink', size: 0, linkTarget: '../\u001fx\n"\\\ud800' },
      { ...dirEntry('u'), uid: 0xffff_ffff, gid: 0, mode: 0, sha256: undefined, data: undefined, linkTarget: undefined },
      { ...file, mtimeNs: '0', ino: 1.5e21, data: { codec: 'gzip', offset: 7, backupId: 'x.Y_z-9', length: 0 } },
    ];
    for (const entry of variants) expect(entryJson(parseEntry(entry))).toBe(canonicalJson(entry));
  });
});
