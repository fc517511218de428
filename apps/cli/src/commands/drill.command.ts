import type { Command } from 'commander';
import type { DrillRecord } from '@tresor/contracts';
import { IntegrityError, UsageError } from '@tresor/errors';
import { optionsOf, repoDir, withRepository } from '../context.js';
import { formatTable, printJson } from '../format.js';
import { remoteClient } from '../remote/remote.js';
import { monitorConfigOf } from './monitor-checks.js';
import { parseSince } from './monitor.command.js';

interface DrillOptions {
  source?: string[];
  randomWithin?: string;
  config?: string;
}

interface DrillListOptions {
  source?: string;
  outcome?: string;
  since?: string;
  limit?: string;
}

const DAY_MS = 86_400_000;

/** `tresor drill run|list`: restore drills now, and their records (docs/monitoring.md). */
export function registerDrill(program: Command): void {
  const drill = program.command('drill').description('restore drills: restore into scratch space, verify every entry, measure the RTO');
  drill
    .command('run')
    .description('restore the latest (or a random recent) backup of each source into a scratch directory, verify every entry hash, record the RTO, discard it; CRITICAL alert on failure (--server: the cluster\'s monitoring service runs it)')
    .option('--source <location>', 'only this source (repeatable; default every source)', (v: string, all: string[] = []) => [...all, v])
    .option('--random-within <age>', 'pick a random backup created within this age (e.g. 7d, 36h) instead of the latest')
    .option('--config <file>', 'monitoring config with the alert channels (default <repo>/monitor.json; standalone only)')
    .action(async (_opts: DrillOptions, command: Command) => {
      const options = optionsOf<DrillOptions>(command);
      const randomWithinDays = options.randomWithin === undefined ? undefined : parseAgeDays(options.randomWithin);
      const client = remoteClient(options);
      let records: DrillRecord[];
      if (client) {
        // The gateway drills one source or all: several --source are several requests.
        const wanted = options.source ?? [undefined];
        records = [];
        for (const source of wanted) records.push(...(await client.drills.run({ ...(source ? { source } : {}), ...(randomWithinDays ? { randomWithinDays } : {}) })));
      } else {
        const { drillStoreOf, openStandaloneAlerting, runDrills } = await import('@tresor/assurance');
        const config = await monitorConfigOf(options);
        const dir = repoDir(options);
        const alerting = await openStandaloneAlerting(dir, config, { oneShot: true });
        records = await withRepository(options, (repo) =>
          runDrills(repo, drillStoreOf(dir), alerting.manager, { ...(options.source ? { sources: options.source } : {}), ...(randomWithinDays ? { randomWithinDays } : {}) }),
        ).finally(() => alerting.close());
      }
      if (options.json) printJson(records);
      else if (records.length === 0) process.stdout.write('no backups to drill\n');
      else process.stdout.write(formatDrills(records) + '\n');
      const failed = records.filter((r) => !r.ok);
      if (failed.length > 0) throw new IntegrityError(`${failed.length} of ${records.length} restore drill(s) failed; first: ${failed[0]!.source}: ${failed[0]!.problem}`);
    });
  drill
    .command('list')
    .description('recorded restore drills, newest first (standalone: <repo>/drills.jsonl; --server: the cluster\'s)')
    .option('--source <location>', 'only drills of this source')
    .option('--outcome <outcome>', 'only ok or failed drills')
    .option('--since <when>', 'only drills finished since then: an ISO time or an age such as 24h, 7d')
    .option('--limit <n>', 'at most this many (default 100)')
    .action(async (_opts: DrillListOptions, command: Command) => {
      const options = optionsOf<DrillListOptions>(command);
      const query = drillQuery(options, Date.now());
      const client = remoteClient(options);
      let records: DrillRecord[];
      if (client) records = await client.drills.list(query);
      else {
        const { drillStoreOf } = await import('@tresor/assurance');
        records = (await drillStoreOf(repoDir(options)).list())
          .filter((d) => (!query.source || d.source === query.source) && (!query.outcome || d.ok === (query.outcome === 'ok')) && (!query.since || Date.parse(d.finishedAt) >= query.since.getTime()))
          .sort((a, b) => b.finishedAt.localeCompare(a.finishedAt))
          .slice(0, query.limit);
      }
      if (options.json) return printJson(records);
      if (records.length === 0) return void process.stdout.write('no drills\n');
      process.stdout.write(formatDrills(records, true) + '\n');
    });
}

function drillQuery(options: DrillListOptions, now: number): { source?: string; outcome?: 'ok' | 'failed'; since?: Date; limit: number } {
  if (options.outcome !== undefined && options.outcome !== 'ok' && options.outcome !== 'failed') throw new UsageError(`--outcome '${options.outcome}': expected ok or failed`);
  const limit = options.limit === undefined ? 100 : Number(options.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit '${options.limit}': expected a positive integer`);
  return {
    ...(options.source ? { source: options.source } : {}),
    ...(options.outcome ? { outcome: options.outcome as 'ok' | 'failed' } : {}),
    ...(options.since ? { since: parseSince(options.since, now) } : {}),
    limit,
  };
}

function formatDrills(records: readonly DrillRecord[], withTime = false): string {
  const head = ['RESULT', ...(withTime ? ['FINISHED'] : []), 'SOURCE', 'BACKUP', 'RTO', 'FILES', 'ENTRIES', 'PROBLEM'];
  const rows = records.map((r) => [r.ok ? 'ok' : 'FAILED', ...(withTime ? [r.finishedAt.replace(/\.\d+Z$/, 'Z')] : []), r.source, r.backupId, `${r.rtoSeconds.toFixed(2)}s`, String(r.files), String(r.entriesVerified), r.problem ?? '-']);
  return formatTable(head, rows);
}

/** `7d`, `36h`, `90m` as days. */
function parseAgeDays(text: string): number {
  const m = /^(\d+)([mhdw])$/.exec(text);
  if (!m) throw new UsageError(`--random-within '${text}': use an age such as 7d, 36h, 2w`);
  const unit = { m: 60_000, h: 3_600_000, d: DAY_MS, w: 7 * DAY_MS }[m[2] as 'm' | 'h' | 'd' | 'w'];
  return (Number(m[1]) * unit) / DAY_MS;
}
