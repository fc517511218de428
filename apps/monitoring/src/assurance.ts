import type { Db } from 'mongodb';
import type { AlertManager } from '@tresor/alerting';
import type { ComplianceSubject, ScheduleFacts } from '@tresor/assurance';
import { MongoDrillStore, alertOnCompliance, complianceReport, loadMonitorConfig, parseMonitorConfig, repositorySubject } from '@tresor/assurance';
import { dualControlFromEnv, policyFor } from '@tresor/auth/approvals';
import type { Catalog, MongoScheduleStore } from '@tresor/catalog';
import { COMMANDS, DEFAULT_TENANT } from '@tresor/contracts';
import type { ComplianceReport } from '@tresor/contracts';
import { UsageError } from '@tresor/errors';
import type { Bus, Logger } from '@tresor/messaging';
import { RemoteObjectStore } from '@tresor/messaging';
import { timetableOf } from '@tresor/scheduling';
import { keysOf } from './keys.js';
import { drillAndRecord } from './drill-run.js';
import type { ServiceMetrics } from '@tresor/service';
import { openClusterRepository, serviceKeySupplier } from '@tresor/service';

/** Verification recomputes the whole chain. */
const AUDIT_VERIFY_TIMEOUT_MS = 120_000;

export interface AssuranceDeps {
  readonly file: string | undefined;
  readonly repoDir: string | undefined;
  readonly bus: Bus;
  readonly db: Db;
  readonly catalog: Catalog;
  readonly schedules: MongoScheduleStore;
  /** The alert manager of this replica while it leads (only the leader raises alerts); undefined otherwise. */
  readonly manager: () => AlertManager | undefined;
  readonly metrics: ServiceMetrics;
  readonly logger: Logger;
}

/**
 * The cluster's side of drills and compliance (docs/monitoring.md, docs/compliance.md): answers
 * `monitoring.drill` (POST /v1/drills), `monitoring.compliance` (GET /v1/compliance/report) and
 * `monitoring.keys` (GET /v1/keys), and
 * with `compliance.watch`, evaluates the controls every `intervalSeconds` to raise WARNING
 * `compliance-<control>` alerts.
 * Every replica answers the commands (a drill a follower runs is recorded, but only the leader
 * alerts); both need the repository (TRESOR_REPO), without it they answer with a usage error.
 */
export async function startClusterAssurance(deps: AssuranceDeps): Promise<() => void> {
  const config = deps.file ? await loadMonitorConfig(deps.file) : parseMonitorConfig({});
  const drills = new MongoDrillStore(deps.db);
  const dual = dualControlFromEnv();
  const supplier = serviceKeySupplier();
  const repository = async () => {
    if (!deps.repoDir) throw new UsageError('the monitoring service has no repository: set TRESOR_REPO (tresor.json and the signing key) and the passphrase (TRESOR_PASSPHRASE_FILE)');
    return openClusterRepository(deps.repoDir, await RemoteObjectStore.connect(deps.bus), deps.catalog, supplier);
  };
  const tenantOf = async (location: string) => (await deps.db.collection<{ _id: string; tenant: string }>('source_tenants').findOne({ _id: location }))?.tenant ?? DEFAULT_TENANT;
  const report = async (): Promise<ComplianceReport> => {
    const subject: ComplianceSubject = {
      ...repositorySubject(await repository()),
      // The cluster's audit log is the audit service's chain, not a repository file. (Asked directly, not
      // through the service kit's audit helpers: monitoring may verify the log, never append to it.)
      verifyAudit: async () => (await deps.bus.request(COMMANDS.auditVerify, { v: 1 }, { timeoutMs: AUDIT_VERIFY_TIMEOUT_MS })).report,
      dualControl: async (location) => policyFor(dual, await tenantOf(location), location),
      tenantOf,
    };
    return complianceReport(subject, config, { schedules: await clusterSchedules(deps.schedules), drills: await drills.list() });
  };

  deps.bus.serve(COMMANDS.monitoringDrill, async (req) => ({
    v: 1 as const,
    drills: await drillAndRecord({ ...deps, manager: deps.manager() }, await repository(), drills, { ...(req.source ? { sources: [req.source] } : {}), ...(req.randomWithinDays ? { randomWithinDays: req.randomWithinDays } : {}) }),
  }));
  deps.bus.serve(COMMANDS.monitoringCompliance, async () => ({ v: 1 as const, report: await report() }));
  deps.bus.serve(COMMANDS.monitoringKeys, async () => ({ v: 1 as const, keys: await keysOf(await repository(), config.keys.warnDays) }));
  if (!deps.repoDir || !config.compliance.watch) return () => undefined;

  let running: Promise<void> | undefined;
  const tick = () => {
    const manager = deps.manager();
    // A follower raises nothing: the leading replica evaluates and alerts.
    if (!manager) return;
    running ??= report()
      .then((r) => alertOnCompliance(manager, r))
      .catch((err: unknown) => deps.logger.warn({ err: (err as Error).message }, 'compliance controls could not be evaluated'))
      .finally(() => (running = undefined));
  };
  tick();
  const timer = setInterval(tick, config.intervalSeconds * 1000);
  return () => clearInterval(timer);
}

/** The scheduler's recurring schedules as the schedule control reads them (one-off runs schedule nothing). */
export async function clusterSchedules(store: Pick<MongoScheduleStore, 'list'>): Promise<ScheduleFacts[]> {
  return (await store.list()).flatMap((r) => {
    const location = (r.backup.source as { location?: unknown } | undefined)?.location;
    if (r.kind === 'once' || typeof location !== 'string') return [];
    return [{ id: r.id, source: location, timezone: r.timezone, paused: r.paused, timetable: timetableOf(r), ...(r.cron ? { cron: r.cron } : {}), ...(r.everyMs ? { everyMs: r.everyMs } : {}) }];
  });
}
