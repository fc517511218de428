import type { Command } from 'commander';
import { optionsOf, withRepository } from '../context.js';
import { formatBytes, formatTable, printJson } from '../format.js';

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
      await withRepository(options, async (repo) => {
        const sources = await repo.catalog.listSources();
        const source = options.source ? sources.find((s) => s.location === options.source) : undefined;
        const backups = await repo.catalog.listBackups(source ? { sourceId: source.id } : {});
        const locationOf = new Map(sources.map((s) => [s.id, s.location]));
        if (options.json) {
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
      });
    });
}
