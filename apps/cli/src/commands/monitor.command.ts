import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { TresorClient } from '@tresor/client';
import type { Alert, AlertLevel, AlertQuery, AlertState } from '@tresor/alerting';
import { UsageError } from '@tresor/errors';
import { optionsOf, repoDir } from '../context.js';
import { formatTable, printJson } from '../format.js';
import { remoteClient } from '../remote/remote.js';
import { registerMonitorChecks } from './monitor-checks.js';

interface AlertsOptions {
  level?: string;
  source?: string;
  since?: string;
  state?: string;
  limit?: string;
}

const LEVELS: readonly AlertLevel[] = ['INFO', 'WARNING', 'CRITICAL'];
const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** `tresor monitor`: health checks, the monitoring daemon and the alert history. */
export function registerMonitor(program: Command): void {
  const monitor = program.command('monitor').description('monitoring: health checks, the monitoring daemon, alert history');
  registerMonitorChecks(monitor);
  monitor
    .command('alerts')
    .description('list alerts, newest raised first (standalone: <repo>/alerts.db; --server: the cluster\'s history)')
    .option('--level <levels>', 'only these levels, comma-separated: INFO, WARNING, CRITICAL')
    .option('--since <when>', 'only alerts firing at some time since then: an ISO time or an age such as 30m, 24h, 7d, 2w')
    .option('--state <state>', 'only firing or resolved alerts')
    .option('--source <location>', 'only alerts of this source')
    .option('--limit <n>', 'at most this many (default 100)')
    .action(async (_opts: AlertsOptions, command: Command) => {
      const options = optionsOf<AlertsOptions>(command);
      const query = alertQuery(options, Date.now());
      const client = remoteClient(options);
      const alerts = client ? await readRemote(client, query) : await readLocal(repoDir(options), query);
      if (options.json) return printJson(alerts);
      if (alerts.length === 0) return void process.stdout.write('no alerts\n');
      process.stdout.write(formatAlerts(alerts) + '\n');
    });
}

async function readLocal(dir: string, query: AlertQuery): Promise<Alert[]> {
  const file = join(dir, 'alerts.db');
  // No file means nothing was ever raised here; reading must not create one.
  return existsSync(file) ? readAlerts(file, query) : [];
}

/** The cluster's history through the gateway, page by page until the limit. */
async function readRemote(client: TresorClient, query: AlertQuery): Promise<Alert[]> {
  const limit = query.limit ?? 100;
  const alerts: Alert[] = [];
  let before: string | undefined;
  do {
    const page = await client.alerts.list({ ...(query.state ? { state: query.state } : {}), ...(query.levels ? { levels: query.levels } : {}), ...(query.source ? { source: query.source } : {}), ...(query.since ? { since: query.since } : {}), ...(before ? { before } : {}), limit: Math.min(1000, limit - alerts.length) });
    alerts.push(...page.alerts);
    before = page.next ?? undefined;
  } while (before && alerts.length < limit);
  return alerts;
}

async function readAlerts(file: string, query: AlertQuery): Promise<Alert[]> {
  // Loaded on use: the alerting lib brings mail and HTTP clients no other command needs.
  const { SqliteAlertHistory } = await import('@tresor/alerting');
  const history = await SqliteAlertHistory.open(file);
  try {
    return await history.query(query);
  } finally {
    await history.close();
  }
}

/** The history query the options ask for; `now` anchors relative `--since` ages. */
export function alertQuery(options: AlertsOptions, now: number): AlertQuery {
  const query: { levels?: AlertLevel[]; state?: AlertState; since?: Date; source?: string; limit: number } = { limit: 100 };
  if (options.source !== undefined) query.source = options.source;
  if (options.level !== undefined) {
    query.levels = options.level.split(',').map((l) => {
      const level = l.trim().toUpperCase() as AlertLevel;
      if (!LEVELS.includes(level)) throw new UsageError(`--level '${l}': expected INFO, WARNING or CRITICAL (comma-separated)`);
      return level;
    });
  }
  if (options.state !== undefined) {
    if (options.state !== 'firing' && options.state !== 'resolved') throw new UsageError(`--state '${options.state}': expected firing or resolved`);
    query.state = options.state;
  }
  if (options.since !== undefined) query.since = parseSince(options.since, now);
  if (options.limit !== undefined) {
    const n = Number(options.limit);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`--limit '${options.limit}': expected a positive integer`);
    query.limit = n;
  }
  return query;
}

/** `--since`: an ISO 8601 time, or an age (`30m`, `24h`, `7d`, `2w`) before `now`. */
export function parseSince(value: string, now: number): Date {
  const age = /^(\d+)([mhdw])$/.exec(value);
  if (age) return new Date(now - Number(age[1]) * UNIT_MS[age[2]!]!);
  const t = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(t)) throw new UsageError(`--since '${value}': expected an ISO time (2026-11-25T08:00:00Z) or an age such as 30m, 24h, 7d, 2w`);
  return new Date(t);
}

function formatAlerts(alerts: readonly Alert[]): string {
  const time = (t: string | undefined) => (t ? t.replace(/\.\d+Z$/, 'Z') : '-');
  const rows = alerts.map((a) => [a.id.slice(0, 8), a.state, a.level, a.rule, a.source ?? '-', time(a.raisedAt), time(a.resolvedAt), a.summary]);
  return formatTable(['ID', 'STATE', 'LEVEL', 'RULE', 'SOURCE', 'RAISED', 'RESOLVED', 'SUMMARY'], rows);
}
