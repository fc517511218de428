// Types of the gateway's backup and job answers the Backups screens read, and the pure filters
// over them (kept out of the components so they can be tested without a browser).
import type { SourceRecord as OverviewSource } from '../overview/types';

/** A backup as GET /v1/backups lists it. */
export interface ListedBackup {
  id: string;
  sourceId: string;
  source?: string;
  level: 'full' | 'differential' | 'incremental';
  parentId: string | null;
  createdAt: string;
  completedAt: string;
  tags: string[];
  archiveSize: number;
  archiveSha256: string;
  files: number;
  dirs: number;
  bytesIn: number;
  bytesStored: number;
}

/** One entry of GET /v1/backups/:id?entries=true. */
export interface BackupEntry {
  path: string;
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  size: number;
  sha256?: string;
  linkTarget?: string;
  mtimeNs: string;
}

/** A source as GET /v1/sources lists it (the overview's fields and whether restores need approval). */
export interface SourceRecord extends OverviewSource {
  sensitive?: boolean;
}

/** A job record of GET /v1/jobs (only the fields the console reads). */
export interface JobRecord {
  id: string;
  kind: 'backup' | 'restore' | 'verify';
  state: string;
  params: Record<string, unknown>;
  result: Record<string, unknown> | null;
  error: { code: string; message: string } | null;
  createdAt: string;
  updatedAt: string;
}

export const LEVELS = ['full', 'differential', 'incremental'] as const;

/** What the last verification of a backup said. */
export type VerifyStatus = 'verified' | 'failed' | 'running' | 'unverified';

/** Verify jobs of one backup, newest first. */
export function verifyJobsOf(jobs: readonly JobRecord[], backupId: string): JobRecord[] {
  return jobs.filter((j) => j.kind === 'verify' && j.params.backupId === backupId).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

/** The verify status of a job: a completed verify that found a problem failed too. */
export function verifyStatusOfJob(job: JobRecord): VerifyStatus {
  if (job.state === 'failed') return 'failed';
  if (job.state !== 'completed') return 'running';
  return job.result?.ok === true ? 'verified' : 'failed';
}

/** The status of a backup: that of its newest verify job, or unverified. */
export function verifyStatusOf(jobs: readonly JobRecord[], backupId: string): VerifyStatus {
  const last = verifyJobsOf(jobs, backupId)[0];
  return last ? verifyStatusOfJob(last) : 'unverified';
}

/** The Backups screen's filters; empty strings match everything. */
export interface BackupFilter {
  source: string;
  status: VerifyStatus | '';
  /** `YYYY-MM-DD`, inclusive, in the user's zone. */
  from: string;
  to: string;
  search: string;
}

export const NO_FILTER: BackupFilter = { source: '', status: '', from: '', to: '', search: '' };

/** Start of a local calendar day, or of the next one (`end`), from `YYYY-MM-DD`. */
function localDay(day: string, end: boolean): number {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(y!, m! - 1, d! + (end ? 1 : 0)).getTime();
}

/** The backups that pass the filter, newest first. */
export function filterBackups(backups: readonly ListedBackup[], jobs: readonly JobRecord[], f: BackupFilter): ListedBackup[] {
  const needle = f.search.trim().toLowerCase();
  return backups
    .filter((b) => !f.source || b.source === f.source)
    .filter((b) => !f.status || verifyStatusOf(jobs, b.id) === f.status)
    .filter((b) => !f.from || Date.parse(b.completedAt) >= localDay(f.from, false))
    .filter((b) => !f.to || Date.parse(b.completedAt) < localDay(f.to, true))
    .filter((b) => !needle || [b.id, b.source ?? '', b.level, ...b.tags].some((s) => s.toLowerCase().includes(needle)))
    .sort((a, b) => b.completedAt.localeCompare(a.completedAt));
}
