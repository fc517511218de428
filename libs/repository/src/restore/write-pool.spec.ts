import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Compressor } from 'zstd-napi';
import { writePool } from './write-pool.js';

describe('writePool', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tresor-write-pool-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('writes files through a temporary name on its thread, many at once, and applies metadata', async () => {
    const names = Array.from({ length: 100 }, (_, i) => `k${i}.key`);
    const outcomes = await Promise.all(
      names.map((name, i) => writePool().writeFile(join(dir, `${name}.tmp`), join(dir, name), Buffer.from(`key ${i}`))),
    );
    expect(outcomes.every((o) => o.error === undefined)).toBe(true);
    expect(await readFile(join(dir, 'k42.key'), 'utf8')).toBe('key 42');
    expect(((await stat(join(dir, 'k42.key'))).mode & 0o777).toString(8)).toBe('600');
    expect((await readdir(dir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);

    const meta = { symlink: false, chown: false, uid: 0, gid: 0, mode: 0o640, mtime: 1_700_000_000.5 };
    expect(await writePool().applyMetadata(join(dir, 'k42.key'), meta)).toEqual({});
    const after = await stat(join(dir, 'k42.key'));
    expect((after.mode & 0o777).toString(8)).toBe('640');
    expect(after.mtimeMs).toBe(1_700_000_000_500);
  });

  it('applies metadata given with a write in the same job, after the rename', async () => {
    const meta = { symlink: false, chown: false, uid: 0, gid: 0, mode: 0o400, mtime: 1_600_000_000 };
    expect(await writePool().writeFile(join(dir, 'ro.key.tmp'), join(dir, 'ro.key'), Buffer.from('read only'), meta)).toEqual({});
    const written = await stat(join(dir, 'ro.key'));
    expect((written.mode & 0o777).toString(8)).toBe('400');
    expect(written.mtimeMs).toBe(1_600_000_000_000);
    expect(await readFile(join(dir, 'ro.key'), 'utf8')).toBe('read only');
  });

  it('reports fs errors as the main thread would see them, and cleans up what it created', async () => {
    await writeFile(join(dir, 'taken.tmp'), 'not ours');
    const taken = await writePool().writeFile(join(dir, 'taken.tmp'), join(dir, 'x.key'), Buffer.from('k'));
    expect(taken.error).toMatchObject({ code: 'EEXIST', syscall: 'open', path: join(dir, 'taken.tmp') });
    expect(await readFile(join(dir, 'taken.tmp'), 'utf8')).toBe('not ours');

    await mkdir(join(dir, 'a-dir'));
    const inTheWay = await writePool().writeFile(join(dir, 'dir.tmp'), join(dir, 'a-dir'), Buffer.from('k'));
    expect(inTheWay).toMatchObject({ renaming: true, error: { code: 'EISDIR', syscall: 'rename' } });
    await expect(stat(join(dir, 'dir.tmp'))).rejects.toMatchObject({ code: 'ENOENT' });

    const missing = await writePool().applyMetadata(join(dir, 'missing.key'), { symlink: false, chown: false, uid: 0, gid: 0, mode: 0o600, mtime: 1 });
    expect(missing.error).toBeInstanceOf(Error);
    expect(missing.error).toMatchObject({ code: 'ENOENT', syscall: 'chmod', message: expect.stringMatching(/^ENOENT: no such file or directory, chmod/) });
  });

  it('creates a file under its final name with its metadata, never over an existing name or through a symlink', async () => {
    const meta = { symlink: false, chown: false, uid: 0, gid: 0, mode: 0o640, mtime: 1_650_000_000.25 };
    expect(await writePool().createFile(join(dir, 'direct.key'), Buffer.from('direct'), meta)).toEqual({});
    const created = await stat(join(dir, 'direct.key'));
    expect({ mode: (created.mode & 0o777).toString(8), mtimeMs: created.mtimeMs }).toEqual({ mode: '640', mtimeMs: 1_650_000_000_250 });
    expect(await readFile(join(dir, 'direct.key'), 'utf8')).toBe('direct');

    const again = await writePool().createFile(join(dir, 'direct.key'), Buffer.from('other'), meta);
    expect(again.error).toMatchObject({ code: 'EEXIST', syscall: 'open' });
    expect(await readFile(join(dir, 'direct.key'), 'utf8')).toBe('direct');

    await writeFile(join(dir, 'victim.txt'), 'untouched');
    await symlink(join(dir, 'victim.txt'), join(dir, 'link.key'));
    const through = await writePool().createFile(join(dir, 'link.key'), Buffer.from('evil'), meta);
    expect(through.error).toMatchObject({ code: 'EEXIST' });
    expect(await readFile(join(dir, 'victim.txt'), 'utf8')).toBe('untouched');
  });
});

describe('writePool making directories', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tresor-write-pool-dirs-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('creates a directory 0700 or finds one there, and names a symlink or a file in the way without following it', async () => {
    expect(await writePool().makeDir(join(dir, 'new'))).toEqual({});
    expect(((await stat(join(dir, 'new'))).mode & 0o777).toString(8)).toBe('700');
    expect(await writePool().makeDir(join(dir, 'new'))).toEqual({});

    await mkdir(join(dir, 'elsewhere'));
    await symlink(join(dir, 'elsewhere'), join(dir, 'link'));
    await symlink(join(dir, 'nowhere'), join(dir, 'dangling'));
    await writeFile(join(dir, 'file'), 'x');
    expect(await writePool().makeDir(join(dir, 'link'))).toEqual({ found: 'symlink' });
    expect(await writePool().makeDir(join(dir, 'dangling'))).toEqual({ found: 'symlink' });
    expect(await writePool().makeDir(join(dir, 'file'))).toEqual({ found: 'other' });
    await expect(stat(join(dir, 'nowhere'))).rejects.toMatchObject({ code: 'ENOENT' });

    const orphan = await writePool().makeDir(join(dir, 'missing', 'child'));
    expect(orphan.error).toMatchObject({ code: 'ENOENT', syscall: 'mkdir' });
  });
});

describe('writePool inflating stored zstd frames', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tresor-write-pool-inflate-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const meta = { symlink: false, chown: false, uid: 0, gid: 0, mode: 0o600, mtime: 1_650_000_000 };
  const content = Buffer.from('-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIK\n-----END PRIVATE KEY-----\n'.repeat(20));
  const frame = (bytes: Buffer, declareSize = true) => {
    const compressor = new Compressor();
    compressor.setParameters({ compressionLevel: 3, checksumFlag: true, contentSizeFlag: declareSize });
    return compressor.compress(bytes);
  };
  const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
  const expected = { size: content.length, sha256: sha256(content) };

  it('decompresses, checks and writes a key file under its name or through a temporary one, with its metadata', async () => {
    expect(await writePool().inflateFile({ dest: join(dir, 'a.key') }, frame(content), expected, meta)).toEqual({});
    expect(await writePool().inflateFile({ dest: join(dir, 'b.key'), temp: join(dir, 'b.tmp') }, frame(content), expected, meta)).toEqual({});
    for (const name of ['a.key', 'b.key']) {
      expect((await readFile(join(dir, name))).equals(content)).toBe(true);
      expect((await stat(join(dir, name))).mtimeMs).toBe(1_650_000_000_000);
    }
    expect((await readdir(dir)).sort()).toEqual(['a.key', 'b.key']);
  });

  it('inflates many frames at once from views into one buffer, which stays the caller\'s', async () => {
    const files = Array.from({ length: 150 }, (_, i) => Buffer.from(`${i}:`.repeat(40 + i)));
    const frames = files.map((bytes) => frame(bytes));
    // As a restore has them: views into one decrypted payload frame.
    const payload = Buffer.concat(frames);
    const copy = Buffer.from(payload);
    let offset = 0;
    const views = frames.map((f) => payload.subarray(offset, (offset += f.length)));
    const outcomes = await Promise.all(
      views.map((view, i) => writePool().inflateFile({ dest: join(dir, `many-${i}.key`) }, view, { size: files[i]!.length, sha256: sha256(files[i]!) }, meta)),
    );
    expect(outcomes.every((o) => Object.keys(o).length === 0)).toBe(true);
    for (const i of [0, 77, 149]) expect((await readFile(join(dir, `many-${i}.key`))).equals(files[i]!)).toBe(true);
    expect(payload.equals(copy)).toBe(true);
    for (let i = 0; i < files.length; i++) await rm(join(dir, `many-${i}.key`));
  });

  it('writes nothing for content of another SHA-256 or size, a frame zstd cannot decode, or one without its size', async () => {
    const other = { size: content.length, sha256: sha256(Buffer.from('something else')) };
    expect(await writePool().inflateFile({ dest: join(dir, 'forged.key') }, frame(content), other, meta)).toEqual({ mismatch: true });
    const damaged = frame(content);
    damaged[damaged.length - 10]! ^= 0xff;
    expect(await writePool().inflateFile({ dest: join(dir, 'damaged.key') }, damaged, expected, meta)).toHaveProperty('corrupt');
    expect(await writePool().inflateFile({ dest: join(dir, 'streamed.key') }, frame(content, false), expected, meta)).toEqual({ fallback: true });
    expect(await writePool().inflateFile({ dest: join(dir, 'short.key') }, frame(content), { ...expected, size: content.length - 1 }, meta)).toEqual({ fallback: true });
    expect((await readdir(dir)).filter((name) => !['a.key', 'b.key'].includes(name))).toEqual([]);
  });
});
