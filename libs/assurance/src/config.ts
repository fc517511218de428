import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { alertingConfigSchema } from '@tresor/alerting';
import { UsageError, describeConfigIssue } from '@tresor/errors';

const HOUR = 3600;

/** A per-source override: its RPO, whether it needs immutability or dual control (compliance). */
export const sourcePolicySchema = z
  .object({
    rpoHours: z.number().positive().optional(),
    immutable: z.boolean().optional(),
    sensitive: z.boolean().optional(),
  })
  .strict();

/** The monitoring configuration of a standalone repository: `<repo>/monitor.json` (docs/monitoring.md). */
export const monitorConfigSchema = z
  .object({
    /** How often `tresor monitor start` runs the checks. */
    intervalSeconds: z.number().int().min(1).default(300),
    storage: z
      .object({ warningPercent: z.number().min(0).max(100).default(80), criticalPercent: z.number().min(0).max(100).default(90), latencyWarningMs: z.number().int().positive().default(2000) })
      .strict()
      .default({ warningPercent: 80, criticalPercent: 90, latencyWarningMs: 2000 }),
    freshness: z.object({ rpoHours: z.number().positive().default(26) }).strict().default({ rpoHours: 26 }),
    /** Sources by location (the path a backup was taken of). */
    sources: z.record(z.string(), sourcePolicySchema).default({}),
    keys: z.object({ warnDays: z.number().int().min(0).default(30) }).strict().default({ warnDays: 30 }),
    tls: z
      .object({
        endpoints: z.array(z.object({ host: z.string().min(1), port: z.number().int().min(1).max(65535).default(443), servername: z.string().optional() }).strict()).default([]),
        warningDays: z.number().int().min(0).default(30),
        criticalDays: z.number().int().min(0).default(7),
      })
      .strict()
      .default({ endpoints: [], warningDays: 30, criticalDays: 7 }),
    drills: z
      .object({
        /** Cron expression (croner, 5 or 6 fields) for drills in `tresor monitor start`; none: no scheduled drills. */
        schedule: z.string().optional(),
        timezone: z.string().optional(),
        /** Pick a random backup created within this many days instead of the latest. */
        randomWithinDays: z.number().positive().optional(),
        /** Sources to drill (locations); default every source in the catalog. */
        sources: z.array(z.string()).optional(),
      })
      .strict()
      .default({}),
    compliance: z
      .object({
        /** Longest allowed time between two backups of a source (schedule interval and actual gap). */
        maxIntervalHours: z.number().positive().default(26),
        /** Shortest history the retention policy must keep. */
        minRetentionDays: z.number().positive().default(30),
        /** A successful restore drill of each source must be this recent. */
        drillWithinDays: z.number().positive().default(30),
        /** Schedule file (`tresor schedule run`); default <repo>/schedules.json. */
        scheduleFile: z.string().optional(),
        /** Cluster: the monitoring service evaluates the controls every `intervalSeconds` and alerts on failures (off: on request only). */
        watch: z.boolean().default(false),
      })
      .strict()
      .default({ maxIntervalHours: 26, minRetentionDays: 30, drillWithinDays: 30, watch: false }),
    alerts: alertingConfigSchema.optional(),
  })
  .strict();
export type MonitorConfig = z.infer<typeof monitorConfigSchema>;

/** Seconds a source may go without a successful backup before its freshness check warns. */
export function rpoSeconds(config: MonitorConfig, source: string): number {
  return (config.sources[source]?.rpoHours ?? config.freshness.rpoHours) * HOUR;
}

/** Validates a monitoring config; the error names the file, the path and what was expected. */
export function parseMonitorConfig(input: unknown, where = 'monitor.json'): MonitorConfig {
  const parsed = monitorConfigSchema.safeParse(input);
  if (!parsed.success) {
    throw new UsageError(describeConfigIssue(where, parsed.error.issues[0]!));
  }
  return parsed.data;
}

/** Reads `file`; a missing file means every default (no channels, no TLS endpoints, no drill schedule). */
export async function loadMonitorConfig(file: string): Promise<MonitorConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return parseMonitorConfig({});
    throw new UsageError(`cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${file}: not JSON (${(err as Error).message})`);
  }
  return parseMonitorConfig(json, file);
}
