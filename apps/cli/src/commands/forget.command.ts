import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { SourceRecord } from '@tresor/catalog';
import { NotFoundError, UnsupportedError, UsageError } from '@tresor/errors';
import { compilePolicy, runForget } from '@tresor/repository';
import type { ForgetReport, RetentionConfig, RetentionPolicy } from '@tresor/repository';
import { audited } from '../audit-trail.js';
import { loadConfigFile } from '../config-file.js';
import { optionsOf, withRepository } from '../context.js';
import type { GlobalOptions } from '../context.js';
import { formatTable, printJson } from '../format.js';
import { remoteClient } from '../remote/remote.js';
import { collect } from './options.js';

interface ForgetCommandOptions {
  dryRun?: boolean;
  source?: string;
  keepLast?: string;
  keepHourly?: string;
  keepDaily?: string;
  keepWeekly?: string;
  keepMonthly?: string;
  keepYearly?: string;
  keepWithin?: string;
  keepTag: string[];
  retentionDays?: string;
  maxBackups?: string;
  timeZone?: string;
}

const COUNT_FLAGS = [
  ['keepLast', '--keep-last'],
  ['keepHourly', '--keep-hourly'],
  ['keepDaily', '--keep-daily'],
  ['keepWeekly', '--keep-weekly'],
  ['keepMonthly', '--keep-monthly'],
  ['keepYearly', '--keep-yearly'],
  ['retentionDays', '--retention-days'],
  ['maxBackups', '--max-backups'],
] as const;

/** `tresor forget`: applies retention policies, or with --dry-run shows what they would do and why. */
export function registerForget(program: Command): void {
  program
    .command('forget')
    .description('delete the backups the retention policy no longer keeps (see docs/retention.md)')
    .option('--dry-run', 'show what would be forgotten and why each kept backup is kept; change nothing')
    .option('--source <path>', 'only backups of this source directory')
    .option('--keep-last <n>', 'keep the n newest backups')
    .option('--keep-hourly <n>', 'keep the newest backup of each of the n newest hours that have one')
    .option('--keep-daily <n>', 'the same for days')
    .option('--keep-weekly <n>', 'the same for ISO weeks')
    .option('--keep-monthly <n>', 'the same for months')
    .option('--keep-yearly <n>', 'the same for years')
    .option('--keep-within <duration>', 'keep backups within this duration of the newest one (30d, 12h, 2w, 1y6m)')
    .option('--keep-tag <tag>', 'keep backups with this tag (repeatable)', collect, [])
    .option('--retention-days <n>', 'keep backups not older than n days (the seed system\'s retention_days)')
    .option('--max-backups <n>', 'keep at most n backups per source (the seed system\'s max_backups)')
    .option('--time-zone <iana>', 'time zone of the hourly … yearly buckets (default: the policy\'s, else UTC)')
    .action(async (_opts: ForgetCommandOptions, command: Command) => {
      const options = optionsOf<ForgetCommandOptions>(command);
      // Everything given on the command line is checked before the repository is opened.
      const flags = policyFromFlags(options);
      if (remoteClient(options)) {
        throw new UnsupportedError('forget runs on a standalone repository only for now; run it on the repository host without --server');
      }
      const configured = flags ? undefined : await configuredRetention(options);
      const forget = () => withRepository(options, async (repo) => {
        const sources = await repo.catalog.listSources();
        const source = options.source === undefined ? undefined : findSource(sources, options.source);
        const policyOf = choosePolicies(configured ?? { retention: repo.config.retention, file: `${repo.dir}/tresor.json` }, sources, source, flags, options.timeZone);
        const report = await runForget(repo, {
          policy: policyOf,
          dryRun: options.dryRun ?? false,
          ...(source ? { sourceId: source.id } : {}),
        });
        print(report, new Map(sources.map((s) => [s.id, s.location])), options.dryRun ?? false, options.json ?? false);
        return report;
      });
      // A dry run changes nothing; a real one deletes backups and is audited before and after.
      if (options.dryRun) await forget();
      else await audited(options, 'backup.forget', options.source, {}, forget, (r) => ({ removed: [...r.removed], leftovers: r.leftovers.length }));
    });
}

/** The policy the flags describe, or undefined when no rule was given on the command line. */
function policyFromFlags(options: ForgetCommandOptions): RetentionPolicy | undefined {
  const policy: Record<string, unknown> = {};
  for (const [field, flag] of COUNT_FLAGS) {
    const text = options[field];
    if (text === undefined) continue;
    if (!/^\d+$/.test(text)) throw new UsageError(`${flag} '${text}' is not a whole number (0 or more)`);
    policy[field] = Number(text);
  }
  if (options.keepWithin !== undefined) policy.keepWithin = options.keepWithin;
  if (options.keepTag.length > 0) policy.keepTags = options.keepTag;
  if (options.timeZone !== undefined) policy.timeZone = options.timeZone;
  const rules = policy as RetentionPolicy;
  // Checks counts, duration and time zone now, naming the flags rather than a config path.
  // Any rule flag, even `--keep-last 0`, means the command line decides (and an empty rule set is refused).
  if (Object.keys(policy).some((k) => k !== 'timeZone')) return compilePolicy(rules, 'forget options').policy;
  if (options.timeZone !== undefined) compilePolicy({ ...rules, keepLast: 1 }, '--time-zone');
  return undefined;
}

function findSource(sources: readonly SourceRecord[], given: string): SourceRecord {
  const found = sources.find((s) => s.location === given) ?? sources.find((s) => s.location === resolve(given));
  if (!found) throw new NotFoundError(`no backups of source ${given} (see \`tresor list\`)`);
  return found;
}

/** Where the policies come from when no rule flag is given, and the file to name in errors. */
interface Configured {
  readonly retention: RetentionConfig | undefined;
  readonly file: string;
}

/** The retention of the config file (--config, TRESOR_CONFIG) when there is one; it replaces tresor.json's. */
async function configuredRetention(options: GlobalOptions): Promise<Configured | undefined> {
  const given = await loadConfigFile(options);
  if (!given) return undefined;
  if (!given.unified) throw new UsageError(`${given.file}: has no retention policies: it is a monitor.json, not the config file (docs/configuration.md)`);
  const { retentionOf } = await import('@tresor/config');
  return { retention: retentionOf(given.unified), file: given.file };
}

/** Flags replace the configured policies; otherwise each source gets its configured one or the default. */
function choosePolicies(
  { retention: configured, file }: Configured,
  sources: readonly SourceRecord[],
  only: SourceRecord | undefined,
  flags: RetentionPolicy | undefined,
  timeZone: string | undefined,
): (sourceId: string) => RetentionPolicy | undefined {
  if (flags) return () => flags;
  const byId = new Map<string, RetentionPolicy>();
  for (const source of only ? [only] : sources) {
    const own = configured?.sources?.[source.location];
    const chosen = own ?? configured?.default;
    if (!chosen) continue;
    const where = own ? `${file}: retention.sources[${JSON.stringify(source.location)}]` : `${file}: retention.default`;
    const policy = timeZone === undefined ? chosen : { ...chosen, timeZone };
    byId.set(source.id, compilePolicy(policy, where).policy);
  }
  if (byId.size === 0) {
    const which = only ? ` for source ${only.location}` : '';
    throw new UsageError(
      `no retention policy${which}: give --keep-last, --keep-daily, … or set "retention" in ${file} (docs/retention.md)`,
    );
  }
  return (sourceId) => byId.get(sourceId);
}

function print(report: ForgetReport, locationOf: Map<string, string>, dryRun: boolean, json: boolean): void {
  if (json) {
    return printJson({
      dryRun,
      backups: report.decisions.map((d) => ({
        id: d.backup.id,
        source: locationOf.get(d.backup.sourceId) ?? d.backup.sourceId,
        createdAt: d.backup.createdAt,
        level: d.backup.level,
        tags: d.backup.tags,
        action: d.action,
        reasons: d.reasons,
        ...(d.deferredUntil ? { deferredUntil: d.deferredUntil.toISOString() } : {}),
      })),
      removed: report.removed,
      leftovers: report.leftovers,
    });
  }
  for (const left of report.leftovers) {
    process.stderr.write(
      `warning: ${left.key} of forgotten backup ${left.backupId} was not deleted (${left.reason}); no catalog entry refers to it, a later prune can remove it\n`,
    );
  }
  if (report.decisions.length === 0) return void process.stdout.write('no backups\n');
  const verb = (action: string) => (dryRun && action === 'forget' ? 'would forget' : action);
  const rows = report.decisions.map((d) => [
    verb(d.action),
    d.backup.id,
    d.backup.createdAt.replace(/\.\d+Z$/, 'Z'),
    d.backup.level,
    locationOf.get(d.backup.sourceId) ?? d.backup.sourceId,
    summarize(d.reasons),
  ]);
  process.stdout.write(formatTable(['ACTION', 'ID', 'CREATED', 'LEVEL', 'SOURCE', 'WHY'], rows) + '\n');
  const count = (action: string) => report.decisions.filter((d) => d.action === action).length;
  const forgets = count('forget');
  process.stdout.write(
    dryRun
      ? `dry run: nothing changed; ${forgets} of ${report.decisions.length} backup(s) would be forgotten, ${count('deferred')} deferred\n`
      : `forgot ${report.removed.length} backup(s); kept ${count('keep')}, deferred ${count('deferred')}\n`,
  );
}

/** Reasons on one line; a base many backups read would otherwise list every one of them. */
function summarize(reasons: readonly string[]): string {
  const parents = reasons.filter((r) => r.startsWith('parent of '));
  const others = reasons.filter((r) => !r.startsWith('parent of '));
  if (parents.length > 3) {
    const ids = parents.slice(0, 3).map((r) => r.slice('parent of '.length));
    others.push(`parent of ${ids.join(', ')} and ${parents.length - 3} more`);
  } else others.push(...parents);
  return others.join('; ');
}
