import type { Command } from 'commander';
import { selectBackup } from '@tresor/repository';
import { optionsOf, withRepository } from '../context.js';
import { formatBytes, formatTable, printJson } from '../format.js';
import { collect } from './options.js';
import { remoteClient } from '../remote/remote.js';
import type { Entry } from '@tresor/archive';
import type { BackupRecord } from '@tresor/catalog';

interface ShowOptions {
  include: string[];
  exclude: string[];
}

/** `tresor show ID`: a backup and its entries. */
export function registerShow(program: Command): void {
  program
    .command('show')
    .description('show a backup and its entries')
    .argument('<id>', 'backup id, unique prefix, or latest')
    .option('--include <glob>', 'only entries matching (repeatable; `*.key` matches at any depth)', collect, [])
    .option('--exclude <glob>', 'leave out entries matching (repeatable)', collect, [])
    .action(async (id: string, _opts: ShowOptions, command: Command) => {
      const options = optionsOf<ShowOptions>(command);
      const client = remoteClient(options);
      if (client) {
        const shown = await client.backups.get(id, { entries: true, include: options.include, exclude: options.exclude });
        return printShow(shown.backup, (shown.entries ?? []) as Entry[], options.json);
      }
      await withRepository(options, async (repo) => {
        const backup = await selectBackup(repo.catalog, { id });
        const entries = [];
        for await (const entry of repo.catalog.entries(backup.id, { include: options.include, exclude: options.exclude })) {
          entries.push(entry);
        }
        printShow(backup, entries, options.json);
      });
    });
}

function printShow(backup: BackupRecord, entries: readonly Entry[], json: boolean | undefined): void {
        if (json) return printJson({ backup, entries });
        process.stdout.write(
          `backup ${backup.id}  ${backup.level}  ${backup.createdAt}  ${backup.files} files  ${formatBytes(backup.bytesIn)}\n`,
        );
        const rows = entries.map((e) => [
          e.type === 'dir' ? 'd' : e.type === 'symlink' ? 'l' : '-',
          (e.mode & 0o7777).toString(8).padStart(4, '0'),
          e.type === 'file' ? formatBytes(e.size) : '',
          new Date(Number(BigInt(e.mtimeNs) / 1_000_000n)).toISOString().replace(/\.\d+Z$/, 'Z'),
          e.type === 'symlink' ? `${e.path} -> ${e.linkTarget}` : e.path,
        ]);
        process.stdout.write(formatTable(['T', 'MODE', 'SIZE', 'MODIFIED', 'PATH'], rows) + '\n');
}
