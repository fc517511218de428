import { execFile } from 'node:child_process';
import { mkdtemp, rm, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A small filesystem of its own, to fill up: a tmpfs mounted on a fresh directory. */
export interface SmallFilesystem {
  readonly dir: string;
  /** Bytes free right now. */
  free(): Promise<number>;
  unmount(): Promise<void>;
}

let probed: Promise<boolean> | undefined;

/** True when this process may mount a tmpfs (root, or CAP_SYS_ADMIN, and no seccomp in the way). */
export function canMountTmpfs(): Promise<boolean> {
  probed ??= mountTmpfs(64 * 1024)
    .then(async (fs) => {
      await fs.unmount();
      return true;
    })
    .catch(() => false);
  return probed;
}

/** Mounts a tmpfs of `bytes` (rounded up to pages by the kernel) on a new temporary directory. */
export async function mountTmpfs(bytes: number): Promise<SmallFilesystem> {
  const dir = await mkdtemp(join(tmpdir(), 'tresor-tmpfs-'));
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${bytes},mode=0755`, 'tmpfs', dir]);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    dir,
    free: async () => {
      const s = await statfs(dir);
      return s.bavail * s.bsize;
    },
    unmount: async () => {
      await run('umount', ['-l', dir]).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
