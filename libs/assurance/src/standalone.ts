import { join } from 'node:path';
import { AlertManager, SqliteAlertHistory, checkAlertingSecrets, createChannels } from '@tresor/alerting';
import type { Repository } from '@tresor/repository';
import { KeyService, listKekVersions, storageLocations } from '@tresor/repository';
import type { CheckResult } from './checks.js';
import { checkCertificates, checkCryptoperiods, checkFreshness, checkKeyProviders, checkLastVerify, checkStorage } from './checks.js';
import type { MonitorConfig } from './config.js';
import type { DrillStore } from './results.js';
import { JsonlDrillStore } from './results.js';

/** Where a standalone repository keeps its monitoring files. */
export function monitorPaths(repoDir: string): { config: string; drills: string; alerts: string } {
  return { config: join(repoDir, 'monitor.json'), drills: join(repoDir, 'drills.jsonl'), alerts: join(repoDir, 'alerts.db') };
}

/** The drill results of a standalone repository. */
export function drillStoreOf(repoDir: string): DrillStore {
  return new JsonlDrillStore(monitorPaths(repoDir).drills);
}

/**
 * Every check of a standalone repository (docs/monitoring.md). Key providers need the key material
 * (passphrase, PIN, identity); without it the check reports WARNING "not checked" instead of failing.
 */
export async function runRepositoryChecks(repo: Repository, config: MonitorConfig, drills: DrillStore, now: number = Date.now()): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  results.push(...(await checkStorage(storageLocations(repo.config.storage, repo.dir), config)));
  results.push(...(await checkFreshness(repo.catalog, config, now)));
  results.push(...checkLastVerify(await drills.list()));
  try {
    results.push(...checkKeyProviders(await KeyService.of(repo).check()));
  } catch (err) {
    results.push({ check: 'key-provider', target: 'keys', status: 'warning', summary: `key providers not checked: ${(err as Error).message}`, details: {} });
  }
  results.push(...checkCryptoperiods(await listKekVersions(repo), config.keys.warnDays, now));
  results.push(...(await checkCertificates(config, now)));
  return results;
}

/**
 * The alert manager of a standalone repository: channels and routes from `monitor.json`'s `alerts`,
 * history in `<repo>/alerts.db` (what `tresor monitor alerts` lists). A one-shot run (`monitor check`,
 * `drill run`) has no group window: it delivers what it raised before it exits; conditions already
 * notified by an earlier run are not notified again before the re-notify interval (history resume).
 */
export async function openStandaloneAlerting(repoDir: string, config: MonitorConfig, options: { oneShot: boolean }): Promise<{ manager: AlertManager; close(): Promise<void> }> {
  const alerting = config.alerts ?? { groupWindowMs: 60_000, renotifyIntervalMs: 4 * 3_600_000, groupBy: ['rule' as const], channels: {}, routes: [] };
  await checkAlertingSecrets(alerting);
  const history = await SqliteAlertHistory.open(monitorPaths(repoDir).alerts);
  const manager = new AlertManager({ ...alerting, ...(options.oneShot ? { groupWindowMs: 0 } : {}), channels: createChannels(alerting), history });
  await manager.resume();
  return {
    manager,
    close: async () => {
      if (options.oneShot) await manager.tick();
      await manager.stop();
      await history.close();
    },
  };
}
