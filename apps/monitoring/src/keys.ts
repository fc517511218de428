import type { KeysOverviewRecord } from '@tresor/contracts';
import type { Repository } from '@tresor/repository';
import { cryptoperiodWarnings, keysOverview, listKekVersions } from '@tresor/repository';

/**
 * The KEK versions of the cluster's repository for GET /v1/keys: read through the storage gateway
 * like the cryptoperiod check (signed public objects), so the gateway never needs key access.
 */
export async function keysOf(repo: Repository, warnDays: number, now = new Date()): Promise<KeysOverviewRecord> {
  const overview = keysOverview(await listKekVersions(repo), now, warnDays);
  return {
    repositoryId: repo.descriptor.repositoryId,
    generatedAt: now.toISOString(),
    ...overview,
    warnings: cryptoperiodWarnings(overview.versions),
  };
}
