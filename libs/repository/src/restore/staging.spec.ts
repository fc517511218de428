import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { Staging } from './staging.js';

async function scratch(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tresor-staging-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe('Staging', () => {
  it('with a key, replaces what a killed earlier attempt of the same job left beside the target', async () => {
    const dir = await scratch();
    const target = join(dir, 'restored');
    // A recovery killed mid-write (kill -9) left its partly written staging directory.
    const stale = join(dir, '.restored.tresor-staging-job-1');
    await mkdir(stale);
    await writeFile(join(stale, 'half-written.key'), 'partial');

    const staging = await Staging.create(target, false, false, 'job-1');
    expect(staging.dir).toBe(stale);
    expect(await readdir(staging.dir)).toEqual([]);
    await writeFile(join(staging.dir, 'whole.key'), 'complete');
    await staging.commit();
    expect(await readdir(dir)).toEqual(['restored']);
    expect(await readdir(target)).toEqual(['whole.key']);
  });

  it('without a key, leaves other staging directories alone (they may belong to a running restore)', async () => {
    const dir = await scratch();
    const other = join(dir, '.restored.tresor-staging-0123abcd');
    await mkdir(other);
    const staging = await Staging.create(join(dir, 'restored'), false, false);
    expect(staging.dir).not.toBe(other);
    await staging.discard();
    expect(await readdir(dir)).toEqual(['.restored.tresor-staging-0123abcd']);
  });

  it('keeps a key from naming a path outside the target directory', async () => {
    const dir = await scratch();
    const staging = await Staging.create(join(dir, 'restored'), false, false, '../../etc/x');
    expect(staging.dir).toBe(join(dir, '.restored.tresor-staging-.._.._etc_x'));
    await staging.discard();
  });
});
