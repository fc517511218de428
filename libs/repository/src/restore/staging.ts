import { randomBytes } from 'node:crypto';
import { link, lstat, mkdir, open, opendir, readlink, rename, rm, symlink, chmod } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ConflictError, IoError } from '@tresor/errors';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

/** What exists at the target before a restore. */
export type TargetState = 'missing' | 'empty' | 'non-empty';

/** Looks at the restore target; anything but a directory (or nothing) there is refused. */
export async function inspectTarget(target: string): Promise<TargetState> {
  let stat;
  try {
    stat = await lstat(target);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw err;
  }
  if (!stat.isDirectory()) throw new ConflictError(`restore target ${target} exists and is not a directory`);
  const dir = await opendir(target);
  try {
    const first = await dir.read();
    return first ? 'non-empty' : 'empty';
  } finally {
    await dir.close().catch(() => undefined);
  }
}

/**
 * A directory beside the target where a restore is assembled, then swapped in by rename so the
 * target changes all at once or not at all.
 */
export class Staging {
  private constructor(
    readonly target: string,
    readonly dir: string,
    private readonly targetExisted: boolean,
  ) {}

  /**
   * Creates the staging directory; with `cloneTarget`, it starts as hard links of the target's files.
   * With `key` (a job id) the directory's name is stable, so a restarted attempt of that job removes
   * what a killed earlier attempt left (partly restored files) instead of leaving it beside the target.
   */
  static async create(target: string, targetExisted: boolean, cloneTarget: boolean, key?: string): Promise<Staging> {
    await mkdir(dirname(target), { recursive: true, mode: 0o700 });
    const suffix = key ? key.replace(/[^A-Za-z0-9._-]/g, '_') : randomBytes(4).toString('hex');
    const dir = join(dirname(target), `.${basename(target)}.tresor-staging-${suffix}`);
    if (key) await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { mode: 0o700 });
    const staging = new Staging(target, dir, targetExisted);
    try {
      if (cloneTarget) await cloneTree(target, dir);
    } catch (err) {
      await staging.discard();
      throw err;
    }
    return staging;
  }

  /**
   * Flushes the staged tree to disk, then swaps it in; the old target is kept aside until the
   * swap is done, then removed.
   */
  async commit(): Promise<void> {
    await syncFileSystem(this.dir);
    if (!this.targetExisted) {
      await rename(this.dir, this.target);
      await syncDir(dirname(this.target));
      return;
    }
    const aside = `${this.dir}-previous`;
    await rename(this.target, aside);
    try {
      await rename(this.dir, this.target);
    } catch (err) {
      await rename(aside, this.target);
      throw err;
    }
    await syncDir(dirname(this.target));
    await rm(aside, { recursive: true, force: true });
  }

  /** Removes the staging directory, leaving the target as it was. */
  async discard(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Mirrors `from` into `to`: directories recreated, files hard-linked, symlinks copied. */
async function cloneTree(from: string, to: string): Promise<void> {
  for await (const item of await opendir(from)) {
    const src = join(from, item.name);
    const dest = join(to, item.name);
    if (item.isDirectory()) {
      const stat = await lstat(src);
      await mkdir(dest, { mode: 0o700 });
      await cloneTree(src, dest);
      await chmod(dest, stat.mode & 0o7777);
    } else if (item.isSymbolicLink()) {
      await symlink(await readlink(src), dest);
    } else if (item.isFile()) {
      await link(src, dest);
    }
  }
}

/**
 * One syncfs(2) for the whole staged tree (coreutils `sync --file-system`): far cheaper than an
 * fsync per restored file, and the old target is not touched before it returns.
 */
async function syncFileSystem(dir: string): Promise<void> {
  try {
    await promisify(execFile)('sync', ['--file-system', dir]);
  } catch (err) {
    throw new IoError(`cannot flush the restored files in ${dir} to disk: ${(err as Error).message}`, { cause: err });
  }
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
