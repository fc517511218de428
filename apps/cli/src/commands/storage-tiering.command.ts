import type { Command } from 'commander';
import { IoError, UsageError } from '@tresor/errors';
import {
  ARCHIVE_PREFIX,
  archiveKey,
  localPaths,
  readLocalConfig,
  storageLocations,
} from '@tresor/repository';
import type { CostLine, ObjectInfo, ObjectStore, StorageLocation, TierAction } from '@tresor/storage';
import { openLocation, storageCost, tierObjects } from '@tresor/storage';
import { optionsOf, repoDir } from '../context.js';
import { formatBytes, formatTable, printJson } from '../format.js';
import { backupFacts, backupIdOf } from './storage-catalog.js';

interface LocationOption {
  location?: string;
}
interface TierOptions extends LocationOption {
  dryRun?: boolean;
  asOf?: string;
}
interface RehydrateOptions extends LocationOption {
  days: string;
}

/** `tresor storage tier|cost|rehydrate`: storage classes of the repository's locations. */
export function registerStorageTiering(storage: Command): void {
  storage
    .command('tier')
    .description(
      "move archives to colder storage classes by each location's lifecycle (manifests, keyrings and repository.json stay hot)",
    )
    .option('--dry-run', 'list what would move and move nothing')
    .option('--location <name>', 'only this location')
    .option(
      '--as-of <date>',
      'count ages up to this ISO 8601 date instead of now (e.g. with --dry-run: what moves by then)',
    )
    .action(async (_opts: unknown, command: Command) => {
      const options = optionsOf<TierOptions>(command);
      const dir = repoDir(options);
      const now = options.asOf === undefined ? new Date() : parseDate(options.asOf);
      const config = await readLocalConfig(localPaths(dir).config);
      const locations = select(storageLocations(config.storage, dir), options.location);
      const tiered = locations.filter((l) => l.lifecycle !== undefined);
      if (tiered.length === 0) {
        throw new UsageError(
          `${options.location ? `storage location ${options.location} has` : 'no storage location has'} a lifecycle: add "lifecycle": { "tiering": [{ "afterDays": 30, "class": "…" }] } to it in ${localPaths(dir).config}`,
        );
      }
      const backups = await backupFacts(dir, config);
      const bornAt = (info: ObjectInfo): Date | undefined =>
        backups.get(backupIdOf(info.key) ?? '')?.completedAt;
      const results: { location: string; actions: TierAction[]; offline: readonly string[] }[] = [];
      const unreachable: string[] = [];
      for (const location of tiered) {
        await withStore(location, unreachable, async (store) => {
          const actions = await tierObjects(store, location.lifecycle!, {
            prefix: ARCHIVE_PREFIX,
            now,
            bornAt,
            dryRun: options.dryRun ?? false,
          });
          results.push({
            location: location.name,
            actions,
            offline: store.capabilities.offlineClasses ?? [],
          });
        });
      }
      const failed = results.flatMap((r) => r.actions.filter((a) => a.outcome === 'failed'));
      if (options.json)
        printJson({
          dryRun: options.dryRun ?? false,
          asOf: now.toISOString(),
          locations: results,
          unreachable,
        });
      else printTierReport(results, unreachable, options.dryRun ?? false);
      if (failed.length > 0 || unreachable.length > 0) {
        throw new IoError(
          `storage tier incomplete: ${[...unreachable, ...failed.map((a) => `${a.key}: ${a.detail}`)].join('; ')}`,
        );
      }
    });

  storage
    .command('cost')
    .description(
      "monthly storage cost per source, location and storage class, from the objects' sizes and each location's prices",
    )
    .option('--location <name>', 'only this location')
    .action(async (_opts: unknown, command: Command) => {
      const options = optionsOf<LocationOption>(command);
      const dir = repoDir(options);
      const config = await readLocalConfig(localPaths(dir).config);
      const locations = select(storageLocations(config.storage, dir), options.location);
      const backups = await backupFacts(dir, config);
      const groupOf = (key: string): string => {
        const id = backupIdOf(key);
        if (id === undefined) return '(repository)';
        return backups.get(id)?.source ?? '(not in the catalog)';
      };
      const lines: CostLine[] = [];
      const unreachable: string[] = [];
      for (const location of locations) {
        await withStore(location, unreachable, async (store) => {
          lines.push(
            ...(await storageCost(
              [
                {
                  location: location.name,
                  objects: store.list(''),
                  ...(location.prices ? { prices: location.prices } : {}),
                },
              ],
              groupOf,
            )),
          );
        });
      }
      const report = {
        lines,
        bySource: totals(lines, (l) => l.group),
        byLocation: totals(lines, (l) => l.location),
        unpriced: [
          ...new Set(
            lines.filter((l) => l.monthlyCost === undefined).map((l) => `${l.location}:${l.storageClass}`),
          ),
        ],
        unreachable,
      };
      if (options.json) printJson(report);
      else printCostReport(report);
      if (unreachable.length > 0) throw new IoError(`storage cost incomplete: ${unreachable.join('; ')}`);
    });

  storage
    .command('rehydrate <objects...>')
    .description(
      'make archived objects readable again (S3 GLACIER/DEEP_ARCHIVE restore, Azure Archive rehydration); give object keys or backup ids',
    )
    .option('--days <n>', 'days S3 keeps the restored copy', '7')
    .option('--location <name>', 'only this location')
    .action(async (objects: string[], _opts: unknown, command: Command) => {
      const options = optionsOf<RehydrateOptions>(command);
      const days = Number(options.days);
      if (!Number.isInteger(days) || days < 1 || days > 30_000) {
        throw new UsageError(`--days ${options.days}: give a whole number of days from 1 to 30000`);
      }
      const dir = repoDir(options);
      const config = await readLocalConfig(localPaths(dir).config);
      const keys = objects.map((o) => (o.includes('/') ? o : archiveKey(o)));
      const results: { location: string; key: string; storageClass?: string; outcome: string }[] = [];
      const unreachable: string[] = [];
      for (const location of select(storageLocations(config.storage, dir), options.location)) {
        await withStore(location, unreachable, async (store) => {
          const offline = store.capabilities.offlineClasses ?? [];
          for (const key of keys) {
            const info = await store.head(key);
            if (info === undefined) continue;
            const storageClass = info.storageClass;
            if (storageClass === undefined || !offline.includes(storageClass) || !store.rehydrate) {
              results.push({
                location: location.name,
                key,
                ...(storageClass ? { storageClass } : {}),
                outcome: 'readable',
              });
              continue;
            }
            await store.rehydrate(key, { days });
            results.push({ location: location.name, key, storageClass, outcome: 'requested' });
          }
        });
      }
      const missing = keys.filter((k) => !results.some((r) => r.key === k));
      if (options.json) printJson({ results, missing, unreachable });
      else {
        for (const r of results) {
          process.stdout.write(
            r.outcome === 'requested'
              ? `requested ${r.key} from ${r.storageClass} in ${r.location}; it is readable when the server has finished (hours)\n`
              : `${r.key} in ${r.location} is readable already${r.storageClass ? ` (${r.storageClass})` : ''}\n`,
          );
        }
      }
      if (missing.length > 0 || unreachable.length > 0) {
        throw new IoError(
          `storage rehydrate incomplete: ${[...unreachable, ...missing.map((k) => `${k}: in no location`)].join('; ')}`,
        );
      }
    });
}

function select(locations: StorageLocation[], name: string | undefined): StorageLocation[] {
  if (name === undefined) return locations;
  const found = locations.filter((l) => l.name === name);
  if (found.length === 0) {
    throw new UsageError(
      `--location ${name}: no such storage location (${locations.map((l) => l.name).join(', ')})`,
    );
  }
  return found;
}

/** Opens a location, runs `work`, closes it; an unreachable location is noted, not fatal to the others. */
async function withStore(
  location: StorageLocation,
  unreachable: string[],
  work: (store: ObjectStore) => Promise<void>,
): Promise<void> {
  let store: ObjectStore;
  try {
    store = await openLocation(location);
  } catch (err) {
    unreachable.push(`${location.name}: ${(err as Error).message}`);
    return;
  }
  try {
    await work(store);
  } finally {
    await store.close?.();
  }
}

function parseDate(value: string): Date {
  const date = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(date.getTime())) {
    throw new UsageError(`--as-of ${value}: give an ISO 8601 date such as 2027-01-31`);
  }
  return date;
}

interface Total {
  readonly name: string;
  readonly bytes: number;
  /** Cost per currency; lines without a price count in bytes only. */
  readonly monthlyCost: Record<string, number>;
}

function totals(lines: readonly CostLine[], by: (line: CostLine) => string): Total[] {
  const sums = new Map<string, { name: string; bytes: number; monthlyCost: Record<string, number> }>();
  for (const line of lines) {
    const name = by(line);
    const sum = sums.get(name) ?? { name, bytes: 0, monthlyCost: {} };
    sum.bytes += line.bytes;
    if (line.monthlyCost !== undefined && line.currency !== undefined)
      sum.monthlyCost[line.currency] = (sum.monthlyCost[line.currency] ?? 0) + line.monthlyCost;
    sums.set(name, sum);
  }
  return [...sums.values()];
}

// Key repositories are small: a cent would round most of their lines to zero.
const money = (amount: number, currency: string): string =>
  `${amount === 0 || amount >= 0.01 ? amount.toFixed(2) : amount.toPrecision(2)} ${currency}`;
const moneyOf = (costs: Record<string, number>): string =>
  Object.entries(costs)
    .map(([currency, amount]) => money(amount, currency))
    .join(' + ') || '-';

function printTierReport(
  results: readonly { location: string; actions: readonly TierAction[]; offline: readonly string[] }[],
  unreachable: readonly string[],
  dryRun: boolean,
): void {
  for (const { location, actions, offline } of results) {
    for (const a of actions) {
      const what = a.outcome === 'failed' ? 'could not move' : dryRun ? 'would move' : 'moved';
      const line = `${what} ${a.key} in ${location}: ${a.from} -> ${a.to} (${a.ageDays} days old)${a.detail ? `: ${a.detail}` : ''}\n`;
      (a.outcome === 'failed' ? process.stderr : process.stdout).write(
        a.outcome === 'failed' ? `tresor: ${line}` : line,
      );
    }
    const offlineTargets = [...new Set(actions.filter((a) => offline.includes(a.to)).map((a) => a.to))];
    if (offlineTargets.length > 0) {
      process.stdout.write(
        `note: archives in ${offlineTargets.join(', ')} at ${location} must be rehydrated (\`tresor storage rehydrate <backup>\`) before a restore or verify reads them\n`,
      );
    }
  }
  for (const u of unreachable) process.stderr.write(`tresor: storage location ${u}\n`);
  const count = (outcome: TierAction['outcome']): number =>
    results.reduce((n, r) => n + r.actions.filter((a) => a.outcome === outcome).length, 0);
  process.stdout.write(
    dryRun
      ? `${count('planned')} archive(s) would move in ${results.length} location(s)\n`
      : `${count('moved')} archive(s) moved, ${count('failed')} failed, in ${results.length} location(s)\n`,
  );
}

function printCostReport(report: {
  lines: readonly CostLine[];
  bySource: readonly Total[];
  byLocation: readonly Total[];
  unpriced: readonly string[];
  unreachable: readonly string[];
}): void {
  const rows = report.lines.map((l) => [
    l.group,
    l.location,
    l.storageClass,
    String(l.objects),
    formatBytes(l.bytes),
    l.pricePerGiBMonth === undefined ? '-' : `${l.pricePerGiBMonth} ${l.currency}`,
    l.monthlyCost === undefined ? '-' : money(l.monthlyCost, l.currency!),
  ]);
  process.stdout.write(
    formatTable(['SOURCE', 'LOCATION', 'CLASS', 'OBJECTS', 'SIZE', 'PER GiB-MONTH', 'PER MONTH'], rows) +
      '\n\n',
  );
  process.stdout.write(
    formatTable(
      ['SOURCE', 'SIZE', 'PER MONTH'],
      report.bySource.map((t) => [t.name, formatBytes(t.bytes), moneyOf(t.monthlyCost)]),
    ) + '\n\n',
  );
  process.stdout.write(
    formatTable(
      ['LOCATION', 'SIZE', 'PER MONTH'],
      report.byLocation.map((t) => [t.name, formatBytes(t.bytes), moneyOf(t.monthlyCost)]),
    ) + '\n',
  );
  if (report.unpriced.length > 0) {
    process.stdout.write(
      `note: no price for ${report.unpriced.join(', ')}: add it (or "default") to the location's prices.perGiBMonth\n`,
    );
  }
  for (const u of report.unreachable) process.stderr.write(`tresor: storage location ${u}\n`);
}
