import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Compressor } from 'zstd-napi';
import type { Entry } from '@tresor/archive';
import { ConflictError, IntegrityError } from '@tresor/errors';
import { TreeWriter } from './tree-writer.js';

const content = Buffer.from('{"secret":"s3cr3t","rotated":"2026-11-27"}\n'.repeat(10));
const frame = (bytes: Buffer, declareSize = true) => {
  const compressor = new Compressor();
  compressor.setParameters({ compressionLevel: 3, checksumFlag: true, contentSizeFlag: declareSize });
  return compressor.compress(bytes);
};
const entry = (path: string, sha256 = createHash('sha256').update(content).digest('hex')): Entry => ({
  path,
  type: 'file',
  mode: 0o600,
  uid: 0,
  gid: 0,
  mtimeNs: '1650000000000000000',
  size: content.length,
  ino: 1,
  sha256,
  data: { backupId: 'b', offset: 0, length: 1, codec: 'zstd' },
});

describe('TreeWriter.writeFileFrame (key files decompressed on a writer thread)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tresor-tree-writer-'));
    // The staging directory a restore writes into exists before its writer does.
    for (const root of ['fresh', 'clone', 'forged', 'streamed']) await mkdir(join(dir, root));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('writes the checked content below the directories it creates, in a fresh tree and in a clone', async () => {
    expect(await new TreeWriter(join(dir, 'fresh'), true).writeFileFrame(entry('app/a.json'), frame(content))).toBe(true);
    expect(await new TreeWriter(join(dir, 'clone'), false).writeFileFrame(entry('app/a.json'), frame(content))).toBe(true);
    for (const root of ['fresh', 'clone']) {
      expect((await readFile(join(dir, root, 'app', 'a.json'))).equals(content)).toBe(true);
      expect(await readdir(join(dir, root, 'app'))).toEqual(['a.json']);
    }
  });

  it('refuses content that does not match the entry, naming it, and writes nothing', async () => {
    const forged = entry('app/forged.json', 'a'.repeat(64));
    const writer = new TreeWriter(join(dir, 'forged'), true);
    await expect(writer.writeFileFrame(forged, frame(content))).rejects.toThrow(
      new IntegrityError('entry app/forged.json: restored content does not match its recorded size and SHA-256'),
    );
    const damaged = frame(content);
    damaged[damaged.length - 8]! ^= 0xff;
    await expect(writer.writeFileFrame(entry('app/damaged.json'), damaged)).rejects.toThrow(/^corrupt zstd data: /);
    expect(await readdir(join(dir, 'forged', 'app'))).toEqual([]);
  });

  it('hands a frame without its content size back to the caller', async () => {
    const writer = new TreeWriter(join(dir, 'streamed'), true);
    expect(await writer.writeFileFrame(entry('app/s.json'), frame(content, false))).toBe(false);
    expect(await readdir(join(dir, 'streamed', 'app'))).toEqual([]);
  });
});

describe('TreeWriter directories', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tresor-tree-writer-dirs-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('creates the directories above a file once, 0700, and refuses a symlink or a file on the way', async () => {
    const root = join(dir, 'clone');
    await mkdir(join(root, 'outside'), { recursive: true });
    await symlink(join(root, 'outside'), join(root, 'linked'));
    await writeFile(join(root, 'plain'), 'not a directory');
    const writer = new TreeWriter(root, false);
    await Promise.all([writer.writeFileFrame(entry('a/b/c/one.json'), frame(content)), writer.writeFileFrame(entry('a/b/c/two.json'), frame(content))]);
    expect((await readdir(join(root, 'a', 'b', 'c'))).sort()).toEqual(['one.json', 'two.json']);
    expect(((await stat(join(root, 'a', 'b'))).mode & 0o777).toString(8)).toBe('700');

    await expect(writer.writeFileFrame(entry('linked/x/k.json'), frame(content))).rejects.toThrow(
      new IntegrityError(`entry linked/x/k.json: ${join(root, 'linked')} is a symlink; refusing to write through it`),
    );
    await expect(writer.writeDir({ ...entry('plain/sub'), type: 'dir' })).rejects.toThrow(
      new ConflictError(`entry plain/sub: ${join(root, 'plain')} exists and is not a directory`),
    );
    expect(await readdir(join(root, 'outside'))).toEqual([]);
  });
});
