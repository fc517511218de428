import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { IoError, UsageError } from '@tresor/errors';
import {
  addStorageLocation,
  localPaths,
  readLocalConfig,
  storageConfigSchema,
  storageLocations,
} from '@tresor/repository';
import type { StorageConfig } from '@tresor/repository';
import type { NamedStore } from '@tresor/storage';
import { checkLocation, openLocation, syncLocations } from '@tresor/storage';
import { optionsOf, repoDir } from '../context.js';
import { formatBytes, formatTable, printJson } from '../format.js';
import { backupFacts, expectedObjects } from './storage-catalog.js';
import { registerStorageTiering } from './storage-tiering.command.js';

interface AddOptions {
  writePolicy?: string;
}

/** `tresor storage add|list|check|sync|tier|cost|rehydrate`: the repository's storage locations. */
export function registerStorage(program: Command): void {
  const storage = program
    .command('storage')
    .description('storage locations of the repository: add, list, check, sync, tier, cost, rehydrate');

  storage
    .command('add <settings>')
    .description(
      'add a location: JSON { name, type, ...settings } or @file.json; then run `tresor storage sync`',
    )
    .option('--write-policy <policy>', 'all (every location must take each write) or quorum (a majority)')
    .action(async (settings: string, _opts: AddOptions, command: Command) => {
      const options = optionsOf<AddOptions>(command);
      const dir = repoDir(options);
      const location = await readJsonArgument(settings, 'storage add');
      const [candidate] = storageLocations({ locations: [location], writePolicy: 'all' }, dir);
      // Refuse a location that cannot be reached now rather than fail every later backup.
      const store = await openLocation(candidate!);
      await store.close?.();
      const updated = await addStorageLocation(dir, location, parsePolicy(options.writePolicy));
      if (options.json) return printJson({ repository: dir, storage: updated });
      process.stdout.write(
        `added storage location ${candidate!.name} (${store.location}) to ${dir}; copy the existing objects with \`tresor storage sync\`\n`,
      );
    });

  storage
    .command('list')
    .description('the configured locations and the write policy (settings name secrets, never contain them)')
    .action(async (_opts: unknown, command: Command) => {
      const options = optionsOf(command);
      const dir = repoDir(options);
      const config = await readLocalConfig(localPaths(dir).config);
      const locations = storageLocations(config.storage, dir);
      const policy = 'locations' in config.storage ? config.storage.writePolicy : 'all';
      if (options.json)
        return printJson({
          writePolicy: policy,
          locations:
            'locations' in config.storage ? config.storage.locations : [{ name: 'local', ...config.storage }],
        });
      process.stdout.write(`write policy: ${policy}\n`);
      const rows = locations.map((l) => [
        l.name,
        l.type,
        describe(l.settings),
        l.bandwidthLimit ? `${formatBytes(l.bandwidthLimit)}/s` : '-',
        String(l.parallelism ?? '-'),
        l.lifecycle?.tiering.map((r) => `${r.afterDays}d:${r.storageClass}`).join(',') ?? '-',
      ]);
      process.stdout.write(
        formatTable(['NAME', 'TYPE', 'WHERE', 'BANDWIDTH', 'PARALLEL', 'TIERING'], rows) + '\n',
      );
    });

  storage
    .command('check')
    .description(
      'probe every location: reachable, writable (put + get + delete of a probe object), latency, free space',
    )
    .action(async (_opts: unknown, command: Command) => {
      const options = optionsOf(command);
      const dir = repoDir(options);
      const config = await readLocalConfig(localPaths(dir).config);
      const results = await Promise.all(storageLocations(config.storage, dir).map((l) => checkLocation(l)));
      if (options.json) printJson(results);
      else {
        const rows = results.map((r) => [
          r.name,
          r.type,
          r.reachable ? 'yes' : 'no',
          r.writable ? 'yes' : 'no',
          r.latencyMs === undefined ? '-' : `${r.latencyMs} ms`,
          r.freeBytes === undefined ? '-' : formatBytes(r.freeBytes),
          r.error ?? '',
        ]);
        process.stdout.write(
          formatTable(['NAME', 'TYPE', 'REACHABLE', 'WRITABLE', 'LATENCY', 'FREE', 'ERROR'], rows) + '\n',
        );
      }
      const failed = results.filter((r) => !r.writable);
      if (failed.length > 0) {
        throw new IoError(
          `${failed.length} of ${results.length} storage location(s) failed the check: ${failed.map((r) => r.name).join(', ')}`,
        );
      }
    });

  storage
    .command('sync')
    .description(
      'copy objects missing from a location from the others, and replace copies whose size (or content) is wrong, hash-verified',
    )
    .option(
      '--verify-content',
      'hash every copy in every location (reads everything) to find wrong bytes, not only wrong sizes',
    )
    .action(async (_opts: unknown, command: Command) => {
      const options = optionsOf<{ verifyContent?: boolean }>(command);
      const dir = repoDir(options);
      const config = await readLocalConfig(localPaths(dir).config);
      // The catalog says what each archive and manifest must be; elsewhere the majority decides.
      const expected = expectedObjects(await backupFacts(dir, config));
      const locations = storageLocations(config.storage, dir);
      const opened = await Promise.allSettled(locations.map((l) => openLocation(l)));
      const named: NamedStore[] = opened.flatMap((r, i) =>
        r.status === 'fulfilled' ? [{ name: locations[i]!.name, store: r.value }] : [],
      );
      const unreachable = opened.flatMap((r, i) =>
        r.status === 'rejected' ? [`${locations[i]!.name}: ${(r.reason as Error).message}`] : [],
      );
      try {
        const actions = await syncLocations(named, {
          verifyContent: options.verifyContent ?? false,
          expected: (key) => expected.get(key),
        });
        const copied = actions.filter((a) => a.outcome === 'copied');
        const repaired = actions.filter((a) => a.outcome === 'repaired');
        const skipped = actions.filter((a) => a.outcome === 'skipped');
        const failed = actions.filter((a) => a.outcome === 'failed');
        if (options.json) printJson({ copied, repaired, skipped, failed, unreachable });
        else {
          for (const a of copied) process.stdout.write(`copied ${a.key} to ${a.to} from ${a.from}\n`);
          for (const a of repaired)
            process.stdout.write(`repaired ${a.key} in ${a.to} from ${a.from} (was: ${a.detail})\n`);
          for (const a of skipped) process.stdout.write(`not checked ${a.key} in ${a.to}: ${a.detail}\n`);
          for (const a of failed)
            process.stderr.write(`tresor: could not repair ${a.key} in ${a.to}: ${a.detail}\n`);
          process.stdout.write(
            `${copied.length} object(s) copied, ${repaired.length} repaired, ${failed.length} failed, ${unreachable.length} location(s) unreachable\n`,
          );
        }
        if (failed.length > 0 || unreachable.length > 0) {
          throw new IoError(
            `storage sync incomplete: ${[...unreachable, ...failed.map((a) => `${a.key} -> ${a.to}`)].join('; ')}`,
          );
        }
      } finally {
        await Promise.allSettled(named.map((l) => l.store.close?.()));
      }
    });

  registerStorageTiering(storage);
}

/** Parses `--storage` of `tresor init`: one location, a list of them, or a whole storage config (JSON or @file). */
export async function parseStorageOption(
  value: string,
  writePolicy: string | undefined,
): Promise<StorageConfig> {
  const raw = await readJsonArgument(value, '--storage');
  const config = Array.isArray(raw)
    ? { locations: raw, writePolicy: parsePolicy(writePolicy) ?? 'all' }
    : typeof raw === 'object' && raw !== null && 'locations' in raw
      ? { ...raw, ...(writePolicy ? { writePolicy: parsePolicy(writePolicy) } : {}) }
      : { locations: [raw], writePolicy: parsePolicy(writePolicy) ?? 'all' };
  const parsed = storageConfigSchema.safeParse(config);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UsageError(
      `--storage: ${issue.path.length ? `${issue.path.join('.')}: ` : ''}${issue.message}`,
    );
  }
  return parsed.data;
}

function parsePolicy(value: string | undefined): 'all' | 'quorum' | undefined {
  if (value === undefined || value === 'all' || value === 'quorum') return value;
  throw new UsageError(`--write-policy '${value}': choose all or quorum`);
}

async function readJsonArgument(value: string, what: string): Promise<unknown> {
  let text = value;
  if (value.startsWith('@')) {
    try {
      text = await readFile(value.slice(1), 'utf8');
    } catch (err) {
      throw new UsageError(
        `${what}: cannot read ${value.slice(1)} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new UsageError(`${what}: not valid JSON (give the settings as JSON or as @file.json)`);
  }
}

/** Where a location points, from its settings (which hold secret references only). */
function describe(settings: unknown): string {
  const s = settings as Record<string, unknown>;
  if (typeof s.bucket === 'string')
    return `${s.bucket}/${(s.prefix as string | undefined) ?? ''}${s.endpoint ? ` at ${String(s.endpoint)}` : ''}`;
  if (typeof s.container === 'string') return `${s.container}/${(s.prefix as string | undefined) ?? ''}`;
  if (typeof s.host === 'string') return `${String(s.username)}@${s.host}:${String(s.port)}${String(s.path)}`;
  return String(s.path ?? '');
}
