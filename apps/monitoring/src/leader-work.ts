import type { Db } from 'mongodb';
import type { AlertHistory, AlertingConfig, AlertManager } from '@tresor/alerting';
import { checkAlertingSecrets } from '@tresor/alerting';
import { loadMonitorConfig } from '@tresor/assurance';
import type { Catalog } from '@tresor/catalog';
import type { ConsumerDefinition } from '@tresor/contracts';
import { UsageError } from '@tresor/errors';
import type { Bus, Logger } from '@tresor/messaging';
import type { LeaderTerm } from '@tresor/scheduling';
import type { ServiceMetrics } from '@tresor/service';
import { startAlerting } from './alerts/alerting.js';
import { consumeEventsForAlerts } from './alerts/event-feed.js';
import type { JobSourceLookup } from './alerts/job-alerts.js';
import { startClusterChecks } from './checks.js';
import { startClusterDrills } from './drills.js';
import { startOrphanSweep } from './orphans.js';
import type { OrphanSweepConfig } from './orphans.js';

export interface LeaderWorkDeps {
  bus: Bus;
  consumer: ConsumerDefinition;
  alerts: AlertingConfig;
  history: AlertHistory;
  catalog: Catalog;
  db: Db;
  metrics: ServiceMetrics;
  logger: Logger;
  lookupSource: JobSourceLookup;
  tickMs: number;
  monitorConfig: string | undefined;
  repoDir: string | undefined;
  /** True while this replica is sure it leads: notifications are held otherwise. */
  leading: () => boolean;
  /** How often the leader re-reads the alert history for raises recorded elsewhere (the lease ttl). */
  adoptMs: number;
  orphanSweep: OrphanSweepConfig;
}

/** The leader's work, and the alert manager of the running term (none on a follower). */
export interface LeaderWork {
  readonly term: LeaderTerm;
  manager(): AlertManager | undefined;
}

/**
 * Checks at start what a leadership term will need (the channels' secrets, monitor.json, the
 * repository for drills), so a misconfigured replica stops with that one line at once, follower or
 * not, instead of failing at every election; the checks run again when a term starts.
 */
export async function checkLeaderWork(d: Pick<LeaderWorkDeps, 'alerts' | 'monitorConfig' | 'repoDir'>): Promise<void> {
  await checkAlertingSecrets(d.alerts);
  const monitor = d.monitorConfig ? await loadMonitorConfig(d.monitorConfig) : undefined;
  if (monitor?.drills.schedule && !d.repoDir) throw new UsageError('configuration: drills.schedule of TRESOR_MONITOR_CONFIG needs TRESOR_REPO (tresor.json and the signing key) and the passphrase (TRESOR_PASSPHRASE_FILE)');
}

/**
 * What only the leading monitoring replica does (docs/monitoring.md, ADR 25): raise alerts from
 * job events (the durable `monitoring` consumer, so events wait while nobody leads), run the health
 * checks and restore drills, and deliver notifications. Each term starts a fresh AlertManager that
 * resumes from the alert history in MongoDB: raises the previous leader recorded but did not
 * announce are announced, what it announced is not repeated. The leader also sweeps orphan
 * objects older than the grace (orphans.ts).
 */
export function leaderWork(d: LeaderWorkDeps): LeaderWork {
  let current: AlertManager | undefined;
  const term: LeaderTerm = async () => {
    const alerting = await startAlerting({ bus: d.bus, config: d.alerts, history: d.history, logger: d.logger, tickMs: d.tickMs, lookupSource: d.lookupSource, active: d.leading, adoptMs: d.adoptMs });
    const stops: (() => void | Promise<void>)[] = [() => alerting.stop()];
    try {
      const manager = alerting.manager;
      stops.unshift(await startClusterChecks({ file: d.monitorConfig, repoDir: d.repoDir, bus: d.bus, catalog: d.catalog, manager, metrics: d.metrics, logger: d.logger }));
      stops.unshift(await startClusterDrills({ file: d.monitorConfig, repoDir: d.repoDir, bus: d.bus, db: d.db, catalog: d.catalog, manager, metrics: d.metrics, logger: d.logger }));
      stops.unshift(startOrphanSweep({ bus: d.bus, catalog: d.catalog, repoDir: d.repoDir, metrics: d.metrics, logger: d.logger }, d.orphanSweep));
      const feed = consumeEventsForAlerts(d.bus, d.consumer, (data) => alerting.onEvent(data), d.logger);
      stops.unshift(() => feed.stop());
      current = manager;
    } catch (err) {
      for (const stop of stops) await stop();
      throw err;
    }
    return async () => {
      current = undefined;
      // Intake first (events, checks, drills), then the manager, so nothing is raised into a stopped one.
      for (const stop of stops) await stop();
    };
  };
  return { term, manager: () => current };
}
