import type { CheckResult, MonitorConfig } from '@tresor/assurance';
import { checkCryptoperiods, probeStorage } from '@tresor/assurance';
import type { Catalog } from '@tresor/catalog';
import type { Bus, Logger } from '@tresor/messaging';
import { RemoteObjectStore } from '@tresor/messaging';
import type { KekAge } from '@tresor/repository';
import { listKekVersions } from '@tresor/repository';
import { openClusterRepository, serviceKeySupplier } from '@tresor/service';

/** The storage check's target: the storage gateway's location, whichever that is. */
export const STORAGE_TARGET = 'storage-gateway';

/** A probe through the storage gateway that has not finished by then is CRITICAL (the bus's request timeout). */
const PROBE_TIMEOUT_MS = 30_000;

/**
 * The checks of the cluster's storage and keys (docs/monitoring.md): the `storage` probe through the
 * storage gateway, and with the repository directory (TRESOR_REPO: tresor.json and the signing
 * public key, no key material) the `kek-cryptoperiod` of each active KEK version. The KEK versions
 * are read through the storage gateway too; while it is away the last versions read are judged
 * (they change only by rotation, which needs storage), and the storage check reports the outage.
 */
export function clusterRepositoryChecks(deps: { bus: Bus; repoDir: string | undefined; catalog: Catalog; logger: Logger }): (config: MonitorConfig) => Promise<CheckResult[]> {
  const supplier = serviceKeySupplier();
  let versions: readonly KekAge[] | undefined;
  const kekVersions = async (repoDir: string): Promise<readonly KekAge[] | undefined> => {
    try {
      const repo = await openClusterRepository(repoDir, await RemoteObjectStore.connect(deps.bus), deps.catalog, supplier);
      versions = await listKekVersions(repo);
    } catch (err) {
      deps.logger.warn({ err: (err as Error).message, judged: versions ? 'the last versions read' : 'nothing' }, 'KEK versions could not be read for the cryptoperiod check');
    }
    return versions;
  };
  return async (config) => {
    const storage = await probeStorage(STORAGE_TARGET, () => RemoteObjectStore.connect(deps.bus), config, { timeoutMs: PROBE_TIMEOUT_MS, details: { type: 'storage-gateway' } });
    const keks = deps.repoDir ? await kekVersions(deps.repoDir) : undefined;
    return [storage, ...(keks ? checkCryptoperiods(keks, config.keys.warnDays) : [])];
  };
}
