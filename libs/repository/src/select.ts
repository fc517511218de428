import type { BackupRecord, Catalog } from '@tresor/catalog';
import { NotFoundError, UsageError } from '@tresor/errors';

export interface BackupSelector {
  /** A backup id, a unique prefix of one, or `latest`. */
  readonly id?: string;
  /** Point in time: the newest backup taken at or before it. */
  readonly at?: Date;
  /** Restrict to backups of the source at this location. */
  readonly sourceLocation?: string;
}

/** Resolves what the user named (id, prefix, `latest`, a point in time) to one backup. */
export async function selectBackup(catalog: Catalog, selector: BackupSelector): Promise<BackupRecord> {
  const sources = await catalog.listSources();
  let sourceId: string | undefined;
  if (selector.sourceLocation !== undefined) {
    const source = sources.find((s) => s.location === selector.sourceLocation);
    if (!source) throw new NotFoundError(`no backups of source ${selector.sourceLocation}`);
    sourceId = source.id;
  }
  const all = await catalog.listBackups(sourceId ? { sourceId } : {});
  if (selector.id && selector.id !== 'latest') {
    const exact = all.find((b) => b.id === selector.id);
    if (exact) return exact;
    const matches = all.filter((b) => b.id.startsWith(selector.id!));
    if (matches.length === 1) return matches[0]!;
    if (matches.length > 1) {
      throw new UsageError(`backup id prefix '${selector.id}' is ambiguous: ${matches.slice(0, 5).map((b) => b.id).join(', ')}`);
    }
    throw new NotFoundError(`no backup with id '${selector.id}' (see \`tresor list\`)`);
  }
  const candidates = selector.at ? all.filter((b) => Date.parse(b.createdAt) <= selector.at!.getTime()) : all;
  if (!sourceId && new Set(candidates.map((b) => b.sourceId)).size > 1) {
    throw new UsageError(
      `backups of several sources exist (${sources.map((s) => s.location).join(', ')}): name one with --source`,
    );
  }
  const chosen = candidates.at(-1);
  if (!chosen) {
    throw new NotFoundError(
      selector.at ? `no backup was taken at or before ${selector.at.toISOString()}` : 'the repository has no backups yet',
    );
  }
  return chosen;
}
