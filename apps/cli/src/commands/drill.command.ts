import type { Command } from 'commander';
import { IntegrityError, UnsupportedError, UsageError } from '@tresor/errors';
import { optionsOf, repoDir, withRepository } from '../context.js';
import { formatTable, printJson } from '../format.js';
import { monitorConfigOf } from './monitor-checks.js';

interface DrillOptions {
  source?: string[];
  randomWithin?: string;
  config?: string;
}

const DAY_MS = 86_400_000;

/** `tresor drill run`: a restore drill now (docs/monitoring.md). */
export function registerDrill(program: Command): void {
  const drill = program.command('drill').description('restore drills: restore into scratch space, verify every entry, measure the RTO');
  drill
    .command('run')
    .description('restore the latest (or a random recent) backup of each source into a scratch directory, verify every entry hash, record the RTO, discard it; CRITICAL alert on failure')
    .option('--source <location>', 'only this source (repeatable; default every source)', (v: string, all: string[] = []) => [...all, v])
    .option('--random-within <age>', 'pick a random backup created within this age (e.g. 7d, 36h) instead of the latest')
    .option('--config <file>', 'monitoring config with the alert channels (default <repo>/monitor.json)')
    .action(async (_opts: DrillOptions, command: Command) => {
      const options = optionsOf<DrillOptions>(command);
      if (options.server ?? process.env.TRESOR_SERVER) throw new UnsupportedError('drill run works on a standalone repository; a cluster drill through the gateway does not exist yet');
      const randomWithinDays = options.randomWithin === undefined ? undefined : parseAgeDays(options.randomWithin);
      const { drillStoreOf, openStandaloneAlerting, runDrills } = await import('@tresor/assurance');
      const config = await monitorConfigOf(options);
      const dir = repoDir(options);
      const alerting = await openStandaloneAlerting(dir, config, { oneShot: true });
      const records = await withRepository(options, (repo) =>
        runDrills(repo, drillStoreOf(dir), alerting.manager, { ...(options.source ? { sources: options.source } : {}), ...(randomWithinDays ? { randomWithinDays } : {}) }),
      ).finally(() => alerting.close());
      if (options.json) printJson(records);
      else if (records.length === 0) process.stdout.write('no backups to drill\n');
      else
        process.stdout.write(
          formatTable(
            ['RESULT', 'SOURCE', 'BACKUP', 'RTO', 'FILES', 'ENTRIES', 'PROBLEM'],
            records.map((r) => [r.ok ? 'ok' : 'FAILED', r.source, r.backupId, `${r.rtoSeconds.toFixed(2)}s`, String(r.files), String(r.entriesVerified), r.problem ?? '-']),
          ) + '\n',
        );
      const failed = records.filter((r) => !r.ok);
      if (failed.length > 0) throw new IntegrityError(`${failed.length} of ${records.length} restore drill(s) failed; first: ${failed[0]!.source}: ${failed[0]!.problem}`);
    });
}

/** `7d`, `36h`, `90m` as days. */
function parseAgeDays(text: string): number {
  const m = /^(\d+)([mhdw])$/.exec(text);
  if (!m) throw new UsageError(`--random-within '${text}': use an age such as 7d, 36h, 2w`);
  const unit = { m: 60_000, h: 3_600_000, d: DAY_MS, w: 7 * DAY_MS }[m[2] as 'm' | 'h' | 'd' | 'w'];
  return (Number(m[1]) * unit) / DAY_MS;
}
