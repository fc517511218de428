import type { Command } from 'commander';
import { optionsOf, withRepository } from '../context.js';
import { formatBytes, formatTable, printJson } from '../format.js';
import { remoteClient } from '../remote/remote.js';
import type { BackupRecord } from '@tresor/catalog';

interface ListOptions {
  source?: string;
}

/** `tresor list`: the backups in the repository, oldest first. */
export function registerList(program: Command): void {
  program
    .command('list')
    .description('list backups, oldest first')
    .option('--source <path>', 'only backups of this source directory')
    .action(async (_opts: ListOptions, command: Command) => {
      const options = optionsOf<ListOptions>(command);
      const client = remoteClient(options);
      if (client) {
        const listed = await client.backups.list(options.source ? { source: options.source } : {});
        return printBackups(listed, new Map(listed.map((b) => [b.sourceId, b.source ?? b.sourceId])), options.json);
      }
      await withRepository(options, async (repo) => {
        const sources = await repo.catalog.listSources();
        const source = options.source ? sources.find((s) => s.location === options.source) : undefined;
        const backups = await repo.catalog.listBackups(source ? { sourceId: source.id } : {});
        const locationOf = new Map(sources.map((s) => [s.id, s.location]));
        printBackups(backups, locationOf, options.json);
      });
    });
}

function printBackups(backups: readonly BackupRecord[], locationOf: Map<string, string>, json: boolean | undefined): void {
        if (json) {
          return printJson(backups.map((b) => ({ ...b, source: locationOf.get(b.sourceId) })));
        }
        if (backups.length === 0) return void process.stdout.write('no backups\n');
        const rows = backups.map((b) => [
          b.id,
          b.createdAt.replace(/\.\d+Z$/, 'Z'),
          b.level,
          locationOf.get(b.sourceId) ?? b.sourceId,
          String(b.files),
          formatBytes(b.bytesIn),
          formatBytes(b.archiveSize),
          b.tags.join(','),
        ]);
        process.stdout.write(formatTable(['ID', 'CREATED', 'LEVEL', 'SOURCE', 'FILES', 'SIZE', 'STORED', 'TAGS'], rows) + '\n');
}
