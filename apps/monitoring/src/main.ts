// monitoring: aggregates service heartbeats and job outcomes, and raises alerts from them (docs/alerts.md).
// Replicas elect a leader through a Redis lease; only the leader raises and delivers alerts, runs the
// health checks and drills (leader-work.ts); every replica follows the SLIs and serves the status.
import { z } from 'zod';
import { MongoAlertHistory } from '@tresor/alerting';
import { connectMongoCatalog } from '@tresor/catalog';
import { COMMANDS, heartbeatSchema } from '@tresor/contracts';
import type { Heartbeat } from '@tresor/contracts';
import { LeaderTerms } from '@tresor/scheduling';
import { baseConfigSchema, loadConfig, mongoTlsOptions, runService, start, startLeadership } from '@tresor/service';
import { loadAlertingConfig } from './alerts/alerting.js';
import { startClusterAssurance } from './assurance.js';
import { checkLeaderWork, leaderWork } from './leader-work.js';
import { serveClusterFsck } from './orphans.js';
import { followSlis } from './slis.js';

/** A service not heard from for this long is reported not ready. */
const STALE_MS = 10_000;

const configSchema = baseConfigSchema.extend({
  /** JSON file with the alert channels and routes (docs/alerts.md); unset: alert events only. */
  TRESOR_ALERTS_CONFIG: z.string().min(1).optional(),
  /** How often due alert notifications are sent. */
  TRESOR_ALERTS_TICK_MS: z.coerce.number().int().min(100).default(1000),
  /** monitor.json with check thresholds, RPOs and TLS endpoints (docs/monitoring.md); unset: defaults. */
  TRESOR_MONITOR_CONFIG: z.string().min(1).optional(),
  /** The repository directory (tresor.json, signing key): for restore drills, the compliance report and the KEK cryptoperiod check. */
  TRESOR_REPO: z.string().min(1).optional(),
  /** Redis for leader election; without it this replica assumes it is the only one. */
  TRESOR_REDIS_URL: z.string().optional(),
  TRESOR_REDIS_PREFIX: z.string().default('tresor:'),
  /** A leader that cannot renew its lease for this long is replaced. */
  TRESOR_MONITORING_LEASE_TTL_MS: z.coerce.number().int().min(500).default(15_000),
  /** How often the leader renews and followers try to take over (default ttl / 3). */
  TRESOR_MONITORING_LEASE_RENEW_MS: z.coerce.number().int().min(100).optional(),
  /** How often the leader deletes orphan objects older than the grace (needs TRESOR_REPO); 0: never. */
  TRESOR_ORPHAN_SWEEP_INTERVAL_MS: z.coerce.number().int().min(0).default(3_600_000),
  /** Orphans younger than this are kept: longer than the longest backup job, whose objects have no catalog entry until it commits. */
  TRESOR_ORPHAN_GRACE_MS: z.coerce.number().int().min(0).default(86_400_000),
});

start(async () => {
  const config = loadConfig(configSchema);
  const alertsConfig = await loadAlertingConfig(config.TRESOR_ALERTS_CONFIG);
  await checkLeaderWork({ alerts: alertsConfig, monitorConfig: config.TRESOR_MONITOR_CONFIG, repoDir: config.TRESOR_REPO });
  const mongo = await connectMongoCatalog(config.TRESOR_MONGODB_URL, config.TRESOR_MONGODB_DB, {
    clientOptions: mongoTlsOptions(config),
    writeConcern: { w: config.TRESOR_MONGODB_WRITE_CONCERN === 'majority' ? 'majority' : Number(config.TRESOR_MONGODB_WRITE_CONCERN) },
    readConcern: config.TRESOR_MONGODB_READ_CONCERN,
  });
  const history = await MongoAlertHistory.open(mongo.client.db(config.TRESOR_MONGODB_DB));
  await runService({
    name: 'monitoring',
    config,
    consumers: (t) => [t.consumers.monitoring],
    async setup({ bus, topology, logger, metrics, instance }) {
      const seen = new Map<string, Heartbeat>();
      const jobs = { completed: 0, failed: 0 };
      let leading = (): boolean => false;
      const work = leaderWork({
        bus,
        consumer: topology.consumers.monitoring,
        alerts: alertsConfig,
        history,
        catalog: mongo.catalog,
        db: mongo.client.db(config.TRESOR_MONGODB_DB),
        metrics,
        logger,
        tickMs: config.TRESOR_ALERTS_TICK_MS,
        monitorConfig: config.TRESOR_MONITOR_CONFIG,
        repoDir: config.TRESOR_REPO,
        leading: () => leading(),
        adoptMs: config.TRESOR_MONITORING_LEASE_TTL_MS,
        orphanSweep: { intervalMs: config.TRESOR_ORPHAN_SWEEP_INTERVAL_MS, graceMs: config.TRESOR_ORPHAN_GRACE_MS },
        // A job requested before this replica started: its source is in the job document.
        lookupSource: async (jobId) => {
          const source = (await mongo.jobs.get(jobId))?.params.source as { location?: unknown } | undefined;
          return typeof source?.location === 'string' ? source.location : undefined;
        },
      });
      const terms = new LeaderTerms(work.term, { onError: (err) => logger.warn({ err: (err as Error).message }, 'monitoring leader work could not start; retrying') });
      const leadership = startLeadership({
        role: 'monitoring',
        config,
        instance,
        ttlMs: config.TRESOR_MONITORING_LEASE_TTL_MS,
        renewMs: config.TRESOR_MONITORING_LEASE_RENEW_MS,
        logger,
        metrics,
        onChange: (leader) => void terms.set(leader),
      });
      leading = leadership.isLeader;
      const beats = bus.nc.subscribe(topology.subjects.heartbeats, {
        callback: (_err, msg) => {
          try {
            const hb = heartbeatSchema.parse(JSON.parse(Buffer.from(msg.data).toString('utf8')));
            seen.set(hb.instance, hb);
          } catch {
            // Malformed heartbeats are ignored: they carry no work.
          }
        },
      });
      const outcomes = bus.nc.subscribe(topology.subjects.event('*.*'), {
        callback: (_err, msg) => {
          if (/\.(backup|restore|verify)\.completed$/.test(msg.subject)) jobs.completed++;
          else if (/\.(backup|restore|verify)\.failed$/.test(msg.subject)) jobs.failed++;
        },
      });
      const stopSlis = await followSlis({ bus, metrics, catalog: mongo.catalog, jobParams: async (jobId) => (await mongo.jobs.get(jobId))?.params });
      const stopAssurance = await startClusterAssurance({ file: config.TRESOR_MONITOR_CONFIG, repoDir: config.TRESOR_REPO, bus, db: mongo.client.db(config.TRESOR_MONGODB_DB), catalog: mongo.catalog, schedules: mongo.schedules, manager: () => work.manager(), metrics, logger });
      serveClusterFsck({ bus, catalog: mongo.catalog, repoDir: config.TRESOR_REPO, metrics, logger });
      bus.serve(COMMANDS.monitoringStatus, async () => {
        const now = Date.now();
        return {
          v: 1 as const,
          services: [...seen.values()].map((hb) => ({ service: hb.service, instance: hb.instance, ready: hb.ready && now - Date.parse(hb.time) < STALE_MS, lastSeen: hb.time })),
          jobs: { ...jobs },
        };
      });
      return {
        checks: leadership.checks,
        detail: () => ({ leader: leadership.detail() }),
        stop: async () => {
          beats.unsubscribe();
          outcomes.unsubscribe();
          stopSlis();
          stopAssurance();
          // The leader's work stops before the lease is given up, so the successor starts after it.
          await terms.stop();
          await leadership.stop();
          await mongo.close();
        },
      };
    },
  });
});
