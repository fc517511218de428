import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, lstat, mkdir, mkdtemp, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IoError, NotFoundError, UsageError } from '@tresor/errors';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SourceEntry, SourceProblem } from '../source.js';
import { isSourceProblem } from '../source.js';
import { FilesystemSource } from './filesystem.source.js';
import { SCAN_BATCH } from './scan-thread.js';

type Item = SourceEntry | SourceProblem;

async function scanAll(source: FilesystemSource): Promise<Item[]> {
  const items: Item[] = [];
  for await (const item of source.scan()) items.push(item);
  return items;
}

async function readAll(source: FilesystemSource, path: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of source.open(path)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

const entries = (items: Item[]): SourceEntry[] => items.filter((i): i is SourceEntry => !isSourceProblem(i));
const problems = (items: Item[]): SourceProblem[] => items.filter(isSourceProblem);
const byteOrder = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

describe('FilesystemSource', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'tresor-source-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function file(path: string, content: string, mode = 0o600): Promise<void> {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), content);
    await chmod(join(root, path), mode);
  }

  it('records files, directories and symlinks with exact metadata, in byte order of paths', async () => {
    await file('tls/server.key', 'secret', 0o600);
    await file('tls/server.pem', 'public', 0o644);
    await file('tls/ro.key', 'read-only', 0o400);
    await file('a b/ünïcode 鍵.key', 'unicode');
    await file('a-b', '');
    await file('a0', 'x');
    await mkdir(join(root, 'empty-dir'));
    await symlink('tls/server.key', join(root, 'current'));
    await symlink('/nonexistent/target', join(root, 'dangling'));
    await symlink('tls', join(root, 'dir-link'));

    const source = new FilesystemSource(root);
    const items = await scanAll(source);
    expect(problems(items)).toEqual([]);
    const paths = items.map((i) => i.path);
    expect(paths).toEqual([
      'a b',
      'a b/ünïcode 鍵.key',
      'a-b',
      'a0',
      'current',
      'dangling',
      'dir-link',
      'empty-dir',
      'tls',
      'tls/ro.key',
      'tls/server.key',
      'tls/server.pem',
    ]);
    expect([...paths].sort(byteOrder)).toEqual(paths);

    const byPath = new Map(entries(items).map((e) => [e.path, e]));
    const stats = await lstat(join(root, 'tls/server.key'), { bigint: true });
    expect(byPath.get('tls/server.key')).toEqual({
      path: 'tls/server.key',
      type: 'file',
      mode: 0o600,
      uid: Number(stats.uid),
      gid: Number(stats.gid),
      mtimeNs: stats.mtimeNs.toString(),
      size: 6,
      ino: Number(stats.ino),
      dev: Number(stats.dev),
    });
    expect(byPath.get('tls/server.pem')?.mode).toBe(0o644);
    expect(byPath.get('tls/ro.key')?.mode).toBe(0o400);
    expect(byPath.get('a-b')).toMatchObject({ type: 'file', size: 0 });
    expect(byPath.get('tls')).toMatchObject({ type: 'dir', size: 0 });
    expect(byPath.get('current')).toMatchObject({ type: 'symlink', size: 0, linkTarget: 'tls/server.key' });
    expect(byPath.get('dangling')).toMatchObject({ type: 'symlink', linkTarget: '/nonexistent/target' });
    expect(byPath.get('dir-link')).toMatchObject({ type: 'symlink', linkTarget: 'tls' });
    expect(await readAll(source, 'a b/ünïcode 鍵.key')).toBe('unicode');
    expect(await readAll(source, 'a-b')).toBe('');
  });

  it('gives the same order on every scan', async () => {
    for (const name of ['b', 'B', 'a', '_', 'ä', 'z/1', 'z/0', 'y.txt', 'y', 'yy/x']) {
      if (name === 'y') await mkdir(join(root, name), { recursive: true });
      else await file(name, name);
    }
    const first = await scanAll(new FilesystemSource(root));
    const second = await scanAll(new FilesystemSource(root));
    expect(second).toEqual(first);
    expect(first.map((i) => i.path)).toEqual([
      'B',
      '_',
      'a',
      'b',
      'y',
      'y.txt',
      'yy',
      'yy/x',
      'z',
      'z/0',
      'z/1',
      'ä',
    ]);
  });

  it('walks 50 levels deep, parents before children', async () => {
    const deep = Array.from({ length: 50 }, (_, i) => `d${i}`).join('/');
    await file(`${deep}/leaf.key`, 'deep');
    const items = await scanAll(new FilesystemSource(root));
    expect(items).toHaveLength(51);
    expect(items.at(-1)?.path).toBe(`${deep}/leaf.key`);
    items.forEach((item, i) => expect(item.path.split('/')).toHaveLength(i + 1));
  });

  it('walks a wide tree of small directories completely and in order', async () => {
    const expected: string[] = [];
    for (let d = 0; d < 40; d++) {
      const dir = `d${String(d).padStart(2, '0')}`;
      expected.push(dir);
      for (const name of ['a.key', 'b.crt', 'c.json']) {
        await file(`${dir}/${name}`, `${dir}/${name}`);
        expected.push(`${dir}/${name}`);
      }
      await file(`${dir}/sub/x.key`, 'x');
      expected.push(`${dir}/sub`, `${dir}/sub/x.key`);
    }
    const items = await scanAll(new FilesystemSource(root));
    expect(items.map((i) => i.path)).toEqual(expected);
    expect(items.filter(isSourceProblem)).toEqual([]);
  });

  it('walks at most three batches ahead of what was taken from it', async () => {
    // Names the thread has not described yet when they are deleted come back as vanished. They
    // are deleted from the last one back, so however the thread races the deletion, what it
    // described is a run of names from the start.
    const names = Array.from({ length: 4 * SCAN_BATCH }, (_, i) => `f${String(i).padStart(4, '0')}`);
    for (const name of names) await file(name, 'x');
    const seen: Item[] = [];
    for await (const item of new FilesystemSource(root).scan()) {
      seen.push(item);
      if (seen.length === 1) for (const name of names.slice(1).reverse()) await unlink(join(root, name));
    }
    expect(seen.map((i) => i.path)).toEqual(names);
    const described = seen.filter((i) => !isSourceProblem(i)).length;
    expect(described).toBeGreaterThanOrEqual(1);
    expect(described).toBeLessThanOrEqual(3 * SCAN_BATCH);
    expect(seen.slice(described).every((i) => isSourceProblem(i) && i.problem === 'vanished')).toBe(true);
  });

  it('reports a FIFO as unsupported and goes on', async () => {
    await file('before', 'x');
    execFileSync('mkfifo', [join(root, 'pipe')]);
    await file('zafter', 'x');
    const items = await scanAll(new FilesystemSource(root));
    expect(items.map((i) => i.path)).toEqual(['before', 'pipe', 'zafter']);
    expect(problems(items)).toEqual([
      { path: 'pipe', problem: 'unsupported-type', message: expect.stringMatching(/is a FIFO/) },
    ]);
  });

  it('reports names that are not UTF-8 or hold control characters, without descending', async () => {
    const rootBytes = Buffer.from(root);
    await writeFile(Buffer.concat([rootBytes, Buffer.from('/bad-\xff', 'latin1')]), 'x');
    await writeFile(join(root, 'ctl-\u0001'), 'x');
    await mkdir(Buffer.concat([rootBytes, Buffer.from('/dir-\xfe', 'latin1')]));
    await writeFile(Buffer.concat([rootBytes, Buffer.from('/dir-\xfe/inside', 'latin1')]), 'x');
    await file('good', 'x');
    const items = await scanAll(new FilesystemSource(root));
    expect(entries(items).map((e) => e.path)).toEqual(['good']);
    expect(problems(items)).toEqual([
      { path: 'bad-\ufffd', problem: 'bad-name', message: 'name is not valid UTF-8; it was left out' },
      {
        path: 'ctl-\\x01',
        problem: 'bad-name',
        message: 'name contains control characters; it was left out',
      },
      { path: 'dir-\ufffd', problem: 'bad-name', message: 'name is not valid UTF-8; it was left out' },
    ]);
  });

  it('keeps a leading U+FEFF as part of a name, not a byte-order mark to drop', async () => {
    await file('a', 'plain');
    await file('\ufeffa', 'with a leading U+FEFF');
    const items = await scanAll(new FilesystemSource(root));
    expect(items.map((i) => [i.path, isSourceProblem(i) ? i.problem : i.size])).toEqual([
      ['a', 5],
      ['\ufeffa', 21],
    ]);
  });

  it('reports entries that vanish during the scan and goes on', async () => {
    // The scan describes up to three batches ahead, so the ones deleted lie further on.
    const filler = Array.from({ length: 3 * SCAN_BATCH + 10 }, (_, i) => `f${String(i).padStart(4, '0')}`);
    await file('a', 'x');
    for (const name of filler) await file(name, 'x');
    await file('x', 'x');
    await file('y/inside', 'x');
    await file('z', 'x');
    const seen: Item[] = [];
    for await (const item of new FilesystemSource(root).scan()) {
      seen.push(item);
      if (item.path === 'a') {
        await unlink(join(root, 'x'));
        await rm(join(root, 'y'), { recursive: true });
      }
    }
    expect(seen.map((i) => [i.path, isSourceProblem(i) ? i.problem : i.type])).toEqual([
      ['a', 'file'],
      ...filler.map((name) => [name, 'file']),
      ['x', 'vanished'],
      ['y', 'vanished'],
      ['z', 'file'],
    ]);
  });

  it('refuses a root that does not exist or is not a directory', async () => {
    await expect(scanAll(new FilesystemSource(join(root, 'missing')))).rejects.toThrow(
      new NotFoundError(`source ${join(root, 'missing')} does not exist`),
    );
    await file('plain', 'x');
    await expect(scanAll(new FilesystemSource(join(root, 'plain')))).rejects.toThrow(
      new UsageError(`source ${join(root, 'plain')} is not a directory`),
    );
    expect(() => new FilesystemSource('')).toThrow(UsageError);
  });

  it('resolves a relative root and describes itself', () => {
    const source = new FilesystemSource('keys');
    expect(source.kind).toBe('filesystem');
    expect(source.location).toBe(join(process.cwd(), 'keys'));
  });

  it('refuses to open paths outside the source', () => {
    const source = new FilesystemSource(root);
    for (const path of ['', '/etc/passwd', '../x', 'a/../../x', 'a//b', './a', 'a/']) {
      expect(() => source.open(path)).toThrow(UsageError);
    }
  });

  it('fails opening with an IoError that names the file when it vanished or was swapped', async () => {
    const source = new FilesystemSource(root);
    await expect(readAll(source, 'missing.key')).rejects.toThrow(
      new IoError(`cannot read missing.key in source ${root}: no such file or directory (ENOENT)`),
    );
    await mkdir(join(root, 'now-a-dir'));
    await expect(readAll(source, 'now-a-dir')).rejects.toThrow(/now-a-dir.*no longer a regular file/);
    await file('real.key', 'x');
    await symlink('real.key', join(root, 'now-a-link'));
    await expect(readAll(source, 'now-a-link')).rejects.toThrow(/now-a-link.*symbolic link \(ELOOP\)/);
    execFileSync('mkfifo', [join(root, 'now-a-fifo')]);
    await expect(readAll(source, 'now-a-fifo')).rejects.toThrow(/now-a-fifo.*no longer a regular file/);
  });

  it('reads small files whole on reader threads, with the errors of open, many at once', async () => {
    const source = new FilesystemSource(root);
    const contents = Array.from({ length: 300 }, (_, i) => `key ${i} `.repeat(i));
    await Promise.all(contents.map((content, i) => file(`k/${i}.key`, content)));
    // Sizes the scan saw that are wrong (the file changed since) do not matter.
    const read = await Promise.all(contents.map((_, i) => source.readWhole(`k/${i}.key`, i % 3 === 0 ? 0 : 10)));
    expect(read.map((b) => b.toString())).toEqual(contents);

    const failure = (path: string) => source.readWhole(path, 1).then(() => undefined, (err: unknown) => err as IoError);
    const missing = await failure('missing.key');
    expect(missing?.message).toBe(`cannot read missing.key in source ${root}: no such file or directory (ENOENT)`);
    expect((missing?.cause as NodeJS.ErrnoException).code).toBe('ENOENT');
    await mkdir(join(root, 'now-a-dir'));
    expect((await failure('now-a-dir'))?.message).toMatch(/now-a-dir.*no longer a regular file/);
    await file('real.key', 'x');
    await symlink('real.key', join(root, 'now-a-link'));
    expect((await failure('now-a-link'))?.message).toMatch(/now-a-link.*symbolic link \(ELOOP\)/);
    execFileSync('mkfifo', [join(root, 'now-a-fifo')]);
    expect((await failure('now-a-fifo'))?.message).toMatch(/now-a-fifo.*no longer a regular file/);
    await expect(source.readWhole('../x', 1)).rejects.toThrow(UsageError);
  });

  it('reads a file whole when it holds more than its size says', async () => {
    // Kernel files say they hold 0 bytes and give more: the buffer grows until a read comes up
    // short of it, and a size of 0 then does not match what was read.
    const proc = new FilesystemSource('/proc');
    for (const name of ['version', 'filesystems']) {
      const whole = readFileSync(join('/proc', name));
      expect(whole.length, name).toBeGreaterThan(1);
      expect((await proc.readWhole(name, 0)).equals(whole), name).toBe(true);
    }
  });

  it('runs a read step on the reader thread, moving its buffers, and keeps the read when the step throws', async () => {
    const source = new FilesystemSource(root);
    const contents = Array.from({ length: 200 }, (_, i) => `secret ${i} `.repeat(i + 1));
    await Promise.all(contents.map((content, i) => file(`s/${i}.json`, content)));
    const step = {
      code: `(() => {
        const { isMainThread } = require('node:worker_threads');
        return (content, arg) => {
          if (content.includes('secret 7 ')) throw new Error('step failed');
          const upper = new Uint8Array(Buffer.from(content.toString().toUpperCase()));
          return { value: { arg, isMainThread, upper }, transfer: [upper.buffer] };
        };
      })()`,
      arg: 'tag',
    };
    const read = await Promise.all(contents.map((_, i) => source.readPrepared(`s/${i}.json`, 10, step)));
    expect(read.map((r) => r.content?.toString())).toEqual(contents);
    read.forEach(({ prepared }, i) => {
      if (i === 7) expect(prepared).toBeUndefined();
      else expect(prepared).toEqual({ arg: 'tag', isMainThread: false, upper: new Uint8Array(Buffer.from(contents[i]!.toUpperCase())) });
    });
    await expect(source.readPrepared('missing.json', 1, step)).rejects.toThrow(IoError);

    // A step that stands for the bytes: only their length comes back, unless the step failed.
    const replacing = await Promise.all(contents.map((_, i) => source.readPrepared(`s/${i}.json`, 10, { ...step, replacesContent: true })));
    replacing.forEach(({ content, length, prepared }, i) => {
      expect(length).toBe(Buffer.byteLength(contents[i]!));
      if (i === 7) expect(content?.toString()).toBe(contents[7]);
      else expect({ content, prepared: (prepared as { upper: Uint8Array }).upper }).toEqual({ content: undefined, prepared: new Uint8Array(Buffer.from(contents[i]!.toUpperCase())) });
    });
  });

  it('gives a step an arena whose copies come back in blocks shared by a batch, and fresh bytes to each file', async () => {
    const source = new FilesystemSource(root);
    // Small files share blocks; one of 100 KiB (over a quarter of a 256 KiB block) gets its own buffer.
    const contents = Array.from({ length: 150 }, (_, i) => (i === 75 ? 'x'.repeat(100 * 1024) : `key ${i} `.repeat(1 + (i % 40))));
    await Promise.all(contents.map((content, i) => file(`a/${String(i).padStart(3, '0')}.pem`, content)));
    const step = {
      code: `(content, arg, arena) => {
        if (content.includes('key 9 ')) throw new Error('step failed');
        return { value: { copy: arena.copy(Buffer.from(content.toString().toUpperCase())) }, transfer: [] };
      }`,
      arg: null,
      replacesContent: true,
    };
    const read = await Promise.all(contents.map((_, i) => source.readPrepared(`a/${String(i).padStart(3, '0')}.pem`, 8, step)));
    const copies = read.map((r) => (r.prepared as { copy: Uint8Array } | undefined)?.copy);
    read.forEach(({ content, length }, i) => {
      expect(length).toBe(contents[i]!.length);
      // The step failed on file 9: its bytes come back, in a buffer of their own.
      if (i === 9) expect([content?.toString(), copies[i]]).toEqual([contents[9], undefined]);
      else expect([content, Buffer.from(copies[i]!).toString()]).toEqual([undefined, contents[i]!.toUpperCase()]);
    });
    const buffers = new Set(copies.filter((c) => c !== undefined).map((c) => c.buffer));
    expect(buffers.size).toBeLessThan(20);
    expect(copies[75]!.buffer.byteLength).toBe(100 * 1024);
    expect(copies.filter((c) => c?.buffer === copies[75]!.buffer)).toHaveLength(1);
  });

  /**
   * Root reads any file whatever its mode, so when the tests run as root the scan runs in a child
   * process without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH: file modes then bind it for real.
   */
  it('reports unreadable directories and files, and open fails with permission denied', async () => {
    await file('open.key', 'x', 0o644);
    await file('locked.key', 'secret', 0o000);
    await file('locked-dir/inside.key', 'x', 0o644);
    await chmod(join(root, 'locked-dir'), 0o000);
    await file('z.key', 'x', 0o644);

    const script = fileURLToPath(new URL('./testing/scan-child.ts', import.meta.url));
    const node = [process.execPath, '--import', 'tsx', script, root, 'locked.key'];
    const [command, ...args] =
      process.getuid?.() === 0 ? ['setpriv', '--bounding-set=-dac_override,-dac_read_search', ...node] : node;
    const output = execFileSync(command!, args, { cwd: fileURLToPath(new URL('.', import.meta.url)), encoding: 'utf8' });
    const { items, openError } = JSON.parse(output) as {
      items: Item[];
      openError?: { name: string; message: string };
    };

    expect(items.map((i) => [i.path, isSourceProblem(i) ? i.problem : i.type])).toEqual([
      ['locked-dir', 'dir'],
      ['locked-dir', 'unreadable'],
      ['locked.key', 'unreadable'],
      ['open.key', 'file'],
      ['z.key', 'file'],
    ]);
    expect(problems(items).map((p) => p.message)).toEqual([
      'cannot list directory: permission denied (EACCES)',
      'cannot read file: permission denied (EACCES)',
    ]);
    expect(openError).toEqual({
      name: 'IoError',
      message: `cannot read locked.key in source ${root}: permission denied (EACCES)`,
    });
  });
});
