import type { BackupLevel, BackupRecord, Catalog } from '@tresor/catalog';

/** The backup a new one is taken relative to, and the level it will really have. */
export interface ParentChoice {
  readonly level: BackupLevel;
  readonly parent?: BackupRecord;
}

/**
 * Picks the parent: incrementals build on the newest backup of the source, differentials on
 * the newest full one. Without such a backup the new one is taken as a full backup.
 */
export async function chooseParent(catalog: Catalog, sourceId: string, level: BackupLevel): Promise<ParentChoice> {
  if (level === 'full') return { level };
  const backups = await catalog.listBackups({ sourceId });
  const candidates = level === 'differential' ? backups.filter((b) => b.level === 'full') : backups;
  const parent = candidates.at(-1);
  return parent ? { level, parent } : { level: 'full' };
}
