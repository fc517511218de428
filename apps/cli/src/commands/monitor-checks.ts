import type { Command } from 'commander';
import type { CheckResult, MonitorConfig } from '@tresor/assurance';
import { TresorError, ExitCode, UnsupportedError } from '@tresor/errors';
import { loadConfigFile } from '../config-file.js';
import { optionsOf, repoDir, withRepository } from '../context.js';
import type { GlobalOptions } from '../context.js';
import { formatTable, printJson } from '../format.js';

interface CheckOptions {
  config?: string;
}

/** Loaded on use: the assurance lib brings TLS, mail and HTTP clients other commands do not need. */
const assurance = () => import('@tresor/assurance');

/**
 * The monitoring config: the file of --config or TRESOR_CONFIG (the unified config's monitoring
 * view, or a monitor.json), else `<repo>/monitor.json` (absent: every default).
 */
export async function monitorConfigOf(options: CheckOptions & GlobalOptions): Promise<MonitorConfig> {
  const given = await loadConfigFile(options);
  if (given) return given.monitor;
  const { loadMonitorConfig, monitorPaths } = await assurance();
  return loadMonitorConfig(monitorPaths(repoDir(options)).config);
}

function refuseRemote(options: GlobalOptions, what: string): void {
  if (options.server ?? process.env.TRESOR_SERVER) {
    throw new UnsupportedError(`${what} runs on a standalone repository; in a cluster the monitoring service runs the checks (docs/monitoring.md)`);
  }
}

/** Runs every check once, raises/resolves their alerts (delivered before returning), and returns the results. */
export async function checkOnce(options: CheckOptions & GlobalOptions): Promise<CheckResult[]> {
  const { alertOnChecks, drillStoreOf, openStandaloneAlerting, runRepositoryChecks } = await assurance();
  const config = await monitorConfigOf(options);
  const dir = repoDir(options);
  const results = await withRepository(options, (repo) => runRepositoryChecks(repo, config, drillStoreOf(dir)));
  const alerting = await openStandaloneAlerting(dir, config, { oneShot: true });
  try {
    await alertOnChecks(alerting.manager, results);
  } finally {
    await alerting.close();
  }
  return results;
}

/** `tresor monitor check|status|start`: the health checks of a standalone repository (docs/monitoring.md). */
export function registerMonitorChecks(monitor: Command): void {
  monitor
    .command('check')
    .description('run every health check once (storage, freshness, last drill, keys, KEK cryptoperiods, certificates); raise/resolve alerts; exit 1 on CRITICAL')
    .option('--config <file>', 'the config file (docs/configuration.md) or a monitor.json (default: $TRESOR_CONFIG, else <repo>/monitor.json)')
    .action(async (_opts: CheckOptions, command: Command) => {
      const options = optionsOf<CheckOptions>(command);
      refuseRemote(options, 'monitor check');
      const results = await checkOnce(options);
      const { worstStatus } = await assurance();
      const worst = worstStatus(results);
      if (options.json) printJson({ status: worst, checks: results });
      else process.stdout.write(formatResults(results) + '\n');
      if (worst === 'critical') {
        const critical = results.filter((r) => r.status === 'critical');
        throw new TresorError(`${critical.length} check(s) CRITICAL; first: ${critical[0]!.summary}`, 'CHECK_FAILED', ExitCode.Failure);
      }
    });

  monitor
    .command('status')
    .description('summary: the worst status of each check, firing alerts and the last drill per source (runs the checks once)')
    .option('--config <file>', 'the config file (docs/configuration.md) or a monitor.json (default: $TRESOR_CONFIG, else <repo>/monitor.json)')
    .action(async (_opts: CheckOptions, command: Command) => {
      const options = optionsOf<CheckOptions>(command);
      refuseRemote(options, 'monitor status');
      const results = await checkOnce(options);
      const { worstStatus } = await assurance();
      const byCheck = new Map<string, CheckResult[]>();
      for (const r of results) byCheck.set(r.check, [...(byCheck.get(r.check) ?? []), r]);
      const summary = [...byCheck].map(([check, rs]) => ({ check, status: worstStatus(rs), targets: rs.length, failing: rs.filter((r) => r.status !== 'ok').map((r) => r.target) }));
      if (options.json) return printJson({ status: worstStatus(results), checks: summary });
      process.stdout.write(`status: ${worstStatus(results).toUpperCase()}\n`);
      process.stdout.write(formatTable(['CHECK', 'STATUS', 'TARGETS', 'FAILING'], summary.map((s) => [s.check, s.status.toUpperCase(), String(s.targets), s.failing.join(', ') || '-'])) + '\n');
    });

  monitor
    .command('start')
    .description('foreground daemon: run the checks every intervalSeconds and the restore drills on their schedule, delivering alerts (SIGTERM stops it)')
    .option('--config <file>', 'the config file (docs/configuration.md) or a monitor.json (default: $TRESOR_CONFIG, else <repo>/monitor.json)')
    .action(async (_opts: CheckOptions, command: Command) => {
      const options = optionsOf<CheckOptions>(command);
      refuseRemote(options, 'monitor start');
      await runMonitorDaemon(options);
    });
}

/** The daemon of `monitor start`: checks on an interval, drills on their cron schedule, alerts ticking every second. */
async function runMonitorDaemon(options: CheckOptions & GlobalOptions): Promise<void> {
  const { alertOnChecks, drillStoreOf, openStandaloneAlerting, runDrills, runRepositoryChecks } = await assurance();
  const { Cron } = await import('croner');
  const config = await monitorConfigOf(options);
  const dir = repoDir(options);
  const alerting = await openStandaloneAlerting(dir, config, { oneShot: false });
  alerting.manager.start(1000);
  const log = (fields: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...fields })}\n`);
  // One piece of work at a time: a drill and a check round never open the repository at once.
  let chain: Promise<void> = Promise.resolve();
  const serial = (what: string, work: () => Promise<void>) => {
    chain = chain.then(work).catch((err: unknown) => void log({ event: `${what}-error`, error: (err as Error).message }));
    return chain;
  };
  const checks = () =>
    serial('checks', async () => {
      const results = await withRepository(options, (repo) => runRepositoryChecks(repo, config, drillStoreOf(dir)));
      await alertOnChecks(alerting.manager, results);
      log({ event: 'checks', ok: results.filter((r) => r.status === 'ok').length, warning: results.filter((r) => r.status === 'warning').length, critical: results.filter((r) => r.status === 'critical').length });
    });
  const drills = () =>
    serial('drill', async () => {
      const records = await withRepository(options, (repo) =>
        runDrills(repo, drillStoreOf(dir), alerting.manager, { ...(config.drills.sources ? { sources: config.drills.sources } : {}), ...(config.drills.randomWithinDays ? { randomWithinDays: config.drills.randomWithinDays } : {}) }),
      );
      for (const r of records) log({ event: 'drill', source: r.source, backupId: r.backupId, ok: r.ok, rtoSeconds: r.rtoSeconds, ...(r.problem ? { problem: r.problem } : {}) });
    });
  const cron = config.drills.schedule ? new Cron(config.drills.schedule, { ...(config.drills.timezone ? { timezone: config.drills.timezone } : {}), protect: true }, () => void drills()) : undefined;
  log({ event: 'started', intervalSeconds: config.intervalSeconds, drills: config.drills.schedule ?? null, nextDrill: cron?.nextRun()?.toISOString() ?? null });
  void checks();
  const timer = setInterval(() => void checks(), config.intervalSeconds * 1000);
  await new Promise<void>((resolveStop) => {
    const stop = () => resolveStop();
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  clearInterval(timer);
  cron?.stop();
  await chain;
  // Due notifications (a failure found just before the stop) still go out.
  await alerting.manager.tick();
  await alerting.close();
  log({ event: 'stopped' });
}

function formatResults(results: readonly CheckResult[]): string {
  if (results.length === 0) return 'no checks to run';
  return formatTable(['STATUS', 'CHECK', 'TARGET', 'SUMMARY'], results.map((r) => [r.status.toUpperCase(), r.check, r.target, r.summary]));
}
