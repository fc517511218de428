import { Gauge } from 'prom-client';
import type { AlertManager } from '@tresor/alerting';
import type { CheckResult } from '@tresor/assurance';
import { alertOnChecks, checkCertificates, checkFreshness, loadMonitorConfig, parseMonitorConfig } from '@tresor/assurance';
import type { Catalog } from '@tresor/catalog';
import type { Bus, Logger } from '@tresor/messaging';
import type { ServiceMetrics } from '@tresor/service';
import { clusterRepositoryChecks } from './repository-checks.js';

const LEVEL: Record<CheckResult['status'], number> = { ok: 0, warning: 1, critical: 2 };

/**
 * The health checks the monitoring service runs over the cluster (docs/monitoring.md): backup
 * freshness per source against the MongoDB catalog, certificate expiry of the configured TLS
 * endpoints, the storage probe through the storage gateway and, with TRESOR_REPO, the KEK
 * cryptoperiods (repository-checks.ts), every `intervalSeconds` of the monitoring config (TRESOR_MONITOR_CONFIG, the
 * `monitor.json` format; its `alerts` section is not read here: TRESOR_ALERTS_CONFIG is). Failed
 * checks raise alerts, passing ones resolve them; `tresor_check_status` exposes each result.
 * Only the leading replica runs them (docs/monitoring.md).
 */
export async function startClusterChecks(deps: { file: string | undefined; repoDir: string | undefined; bus: Bus; catalog: Catalog; manager: AlertManager; metrics: ServiceMetrics; logger: Logger }): Promise<() => void> {
  const config = deps.file ? await loadMonitorConfig(deps.file) : parseMonitorConfig({});
  const repositoryChecks = clusterRepositoryChecks(deps);
  // Started again at every leadership term of this replica: the gauge is registered once.
  const status =
    (deps.metrics.registry.getSingleMetric('tresor_check_status') as Gauge<'check' | 'target'> | undefined) ??
    new Gauge({ name: 'tresor_check_status', help: 'Result of each health check the monitoring service runs: 0 ok, 1 warning, 2 critical.', labelNames: ['check', 'target'], registers: [deps.metrics.registry] });
  const run = async (): Promise<void> => {
    const results = [...(await checkFreshness(deps.catalog, config)), ...(await checkCertificates(config)), ...(await repositoryChecks(config))];
    status.reset();
    for (const r of results) status.set({ check: r.check, target: r.target }, LEVEL[r.status]);
    await alertOnChecks(deps.manager, results);
  };
  let running: Promise<void> | undefined;
  const tick = () => {
    // A slow round (a hanging TLS endpoint) is not overlapped by the next.
    running ??= run()
      .catch((err: unknown) => deps.logger.warn({ err: (err as Error).message }, 'health checks failed'))
      .finally(() => (running = undefined));
  };
  tick();
  const timer = setInterval(tick, config.intervalSeconds * 1000);
  return () => {
    clearInterval(timer);
    // A follower reports no check results: the leader's are the current ones.
    status.reset();
  };
}
