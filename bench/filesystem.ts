import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { basename } from 'node:path';

/** The filesystem a benchmark writes its repositories and restores to. */
export interface WorkFilesystem {
  readonly source: string;
  readonly type: string;
  readonly options: string;
  /** For ext4: whether it keeps a journal (jbd2); null for other filesystems or when unknown. */
  readonly journal: boolean | null;
}

/** Which filesystem holds `dir` (an existing directory), as `findmnt` and /proc/fs/jbd2 see it. */
export function workFilesystem(dir: string): WorkFilesystem {
  const [source = '?', type = '?', options = ''] = execFileSync(
    'findmnt',
    ['--noheadings', '--output', 'SOURCE,FSTYPE,OPTIONS', '--target', dir],
    { encoding: 'utf8' },
  )
    .trim()
    .split(/\s+/);
  // jbd2 lists each journal as <device>-<inode of the journal>; 8 is ext4's journal inode.
  const journal = type === 'ext4' ? existsSync(`/proc/fs/jbd2/${basename(source)}-8`) : null;
  return { source, type, options, journal };
}

/**
 * Why a restore timed on this filesystem would measure its past rather than the tools, or null.
 *
 * ext4 without a journal skips, on every inode it allocates, each free inode of the group that was
 * deleted in the last 60 s (360 s while its inode table block is dirty), looking each one up in
 * the buffer cache (fs/ext4/ialloc.c, `recently_deleted`): right after a tool's 100k restored files are deleted, the next tool's file
 * creations cost ~10x their usual system time (perf: `recently_deleted` and `find_inode_bit`).
 */
export function restoreTimingHazard(fs: WorkFilesystem): string | null {
  if (fs.type !== 'ext4' || fs.journal !== false) return null;
  return `${fs.source} is ext4 without a journal: file creation after a deletion is slowed by the kernel's recently-deleted inode scan; run the bench on a journaled filesystem (bench/mount-scratch-fs.sh)`;
}
