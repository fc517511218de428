import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hashFile, HashThread } from './hash-thread.js';

describe('HashThread', () => {
  it('gives the SHA-256 of the buffers in order, one or several per call, leaving them to the caller', async () => {
    const parts = [randomBytes(3 * 1024 * 1024), randomBytes(10), Buffer.alloc(0), randomBytes(1024 * 1024 + 7), randomBytes(16), randomBytes(65536)];
    const copies = parts.map((part) => Buffer.from(part));
    const thread = new HashThread();
    for (const part of parts.slice(0, 3)) await thread.update(part);
    await thread.update(...parts.slice(3));
    expect(await thread.digestHex()).toBe(createHash('sha256').update(Buffer.concat(copies)).digest('hex'));
    parts.forEach((part, i) => expect(part.equals(copies[i]!)).toBe(true));
  });

  it('makes a caller wait while more than 4 MiB wait to be hashed, and not for ever', async () => {
    const thread = new HashThread();
    const chunks = Array.from({ length: 12 }, () => randomBytes(1024 * 1024));
    const waits = chunks.map((chunk) => thread.update(chunk));
    let settled = 0;
    waits.forEach((wait) => void wait.then(() => settled++));
    await Promise.resolve();
    expect(settled).toBeLessThan(12);
    await Promise.all(waits);
    expect(await thread.digestHex()).toBe(createHash('sha256').update(Buffer.concat(chunks)).digest('hex'));
  });

  it('hashes nothing to the empty digest', async () => {
    expect(await new HashThread().digestHex()).toBe(createHash('sha256').digest('hex'));
  });

  it('refuses more bytes once its thread has ended, instead of leaving the caller waiting', async () => {
    const thread = new HashThread();
    await thread.update(randomBytes(1024 * 1024));
    await thread.stop();
    const updates = Array.from({ length: 4 }, () => thread.update(randomBytes(2 * 1024 * 1024)).then(() => 'done', (err: Error) => err.message));
    expect(await Promise.all(updates)).toEqual(Array(4).fill('cannot hash the object: the hashing thread has ended'));
  });

  it('can be stopped without a digest, more than once', async () => {
    const thread = new HashThread();
    await thread.update(randomBytes(100));
    await thread.stop();
    await thread.stop();
    await expect(thread.digestHex()).rejects.toThrow(/hashing thread exited/);
  });
});

describe('hashFile', () => {
  it('reads and hashes a file on its thread, and fails with the fs error for a missing path or a directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tresor-hash-file-'));
    try {
      const bytes = randomBytes(2 * 1024 * 1024 + 3);
      await writeFile(join(dir, 'object'), bytes);
      expect(await hashFile(join(dir, 'object'))).toEqual({ sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length });
      await writeFile(join(dir, 'empty'), '');
      expect(await hashFile(join(dir, 'empty'))).toEqual({ sha256: createHash('sha256').digest('hex'), size: 0 });
      await expect(hashFile(join(dir, 'missing'))).rejects.toMatchObject({ code: 'ENOENT' });
      await expect(hashFile(dir)).rejects.toMatchObject({ code: 'ENOENT', message: `not a file: ${dir}` });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
