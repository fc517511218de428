import type { Repository } from '../repository.js';
import { fsckRepository } from './fsck.service.js';
import type { FsckReport } from './fsck.service.js';
import type { FsckRepair } from './repair.js';

/** What one orphan sweep did. */
export interface OrphanSweep {
  readonly report: FsckReport;
  /** Orphans deleted. */
  readonly removed: readonly FsckRepair[];
  /** Orphans kept: younger than the grace, retained, read by a catalogued backup, or not deletable. */
  readonly kept: readonly FsckRepair[];
}

/**
 * `fsck --repair` without reading archive data: deletes every orphan object older than `graceMs`.
 * The grace is what protects a backup in flight, whose objects have no catalog entry until its
 * commit: it must be longer than the longest backup job (docs/reliability.md, ADR 32).
 */
export async function sweepOrphans(repo: Repository, graceMs: number, now?: Date): Promise<OrphanSweep> {
  const report = await fsckRepository(repo, { readData: false, repair: { olderThanMs: graceMs, ...(now ? { now } : {}) } });
  return {
    report,
    removed: report.repairs.filter((r) => r.outcome === 'deleted'),
    kept: report.repairs.filter((r) => r.outcome !== 'deleted'),
  };
}
