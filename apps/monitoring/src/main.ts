// monitoring: aggregates service heartbeats and job outcomes, and raises alerts from them (docs/alerts.md).
import { z } from 'zod';
import { MongoAlertHistory } from '@tresor/alerting';
import { connectMongoCatalog } from '@tresor/catalog';
import { COMMANDS, heartbeatSchema } from '@tresor/contracts';
import type { Heartbeat } from '@tresor/contracts';
import { baseConfigSchema, loadConfig, mongoTlsOptions, runService, start } from '@tresor/service';
import { loadAlertingConfig, startAlerting } from './alerts/alerting.js';
import { consumeEventsForAlerts } from './alerts/event-feed.js';
import { startClusterChecks } from './checks.js';
import { startClusterDrills } from './drills.js';
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
  /** The repository directory (tresor.json, signing key): needed only for scheduled restore drills. */
  TRESOR_REPO: z.string().min(1).optional(),
});

start(async () => {
  const config = loadConfig(configSchema);
  const alertsConfig = await loadAlertingConfig(config.TRESOR_ALERTS_CONFIG);
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
    async setup({ bus, topology, logger, metrics }) {
      const seen = new Map<string, Heartbeat>();
      const jobs = { completed: 0, failed: 0 };
      const alerting = await startAlerting({
        bus,
        config: alertsConfig,
        history,
        logger,
        tickMs: config.TRESOR_ALERTS_TICK_MS,
        // A job requested before this replica started: its source is in the job document.
        lookupSource: async (jobId) => {
          const source = (await mongo.jobs.get(jobId))?.params.source as { location?: unknown } | undefined;
          return typeof source?.location === 'string' ? source.location : undefined;
        },
      });
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
      const stopChecks = await startClusterChecks({ file: config.TRESOR_MONITOR_CONFIG, catalog: mongo.catalog, manager: alerting.manager, metrics, logger });
      const stopDrills = await startClusterDrills({ file: config.TRESOR_MONITOR_CONFIG, repoDir: config.TRESOR_REPO, bus, db: mongo.client.db(config.TRESOR_MONGODB_DB), catalog: mongo.catalog, manager: alerting.manager, metrics, logger });
      const alertFeed = consumeEventsForAlerts(bus, topology.consumers.monitoring, (data) => alerting.onEvent(data), logger);
      bus.serve(COMMANDS.monitoringStatus, async () => {
        const now = Date.now();
        return {
          v: 1 as const,
          services: [...seen.values()].map((hb) => ({ service: hb.service, instance: hb.instance, ready: hb.ready && now - Date.parse(hb.time) < STALE_MS, lastSeen: hb.time })),
          jobs: { ...jobs },
        };
      });
      return {
        stop: async () => {
          beats.unsubscribe();
          outcomes.unsubscribe();
          stopSlis();
          stopChecks();
          stopDrills();
          await alertFeed.stop();
          await alerting.stop();
          await mongo.close();
        },
      };
    },
  });
});
