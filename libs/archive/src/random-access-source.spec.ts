import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { IntegrityError, IoError, UsageError } from '@tresor/errors';
import { makeTmpDir, removeTmpDirs } from './archive.fixtures.js';
import { bufferSource, fileSource } from './random-access-source.js';

afterAll(removeTmpDirs);

describe('random access sources', () => {
  it('reads exact ranges from a buffer and refuses reads past the end', async () => {
    const source = bufferSource(Buffer.from('0123456789'));
    expect((await source.read(2, 3)).toString()).toBe('234');
    await expect(source.read(8, 3)).rejects.toThrow(IntegrityError);
    await expect(source.read(-1, 1)).rejects.toThrow(UsageError);
  });

  it('reads exact ranges from a file', async () => {
    const path = join(await makeTmpDir(), 'f');
    await writeFile(path, '0123456789');
    const source = await fileSource(path);
    try {
      expect(source.size).toBe(10);
      expect((await source.read(7, 3)).toString()).toBe('789');
      await expect(source.read(9, 2)).rejects.toThrow(IntegrityError);
    } finally {
      await source.close();
    }
    await expect(fileSource(join(path, 'missing'))).rejects.toThrow(IoError);
  });
});
