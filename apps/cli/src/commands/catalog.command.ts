import type { Command } from 'commander';
import { rebuildCatalog } from '@tresor/repository';
import { optionsOf, withRepository } from '../context.js';
import { printJson } from '../format.js';
import { registerFsck } from './fsck.command.js';

/** `tresor catalog rebuild`: recreates the catalog from storage alone; and `tresor fsck`, which checks it against storage. */
export function registerCatalog(program: Command): void {
  // Registered here rather than in cli.ts so that it sits next to `catalog` in the help and reference.
  registerFsck(program);
  const catalog = program.command('catalog').description('manage the catalog (an index of what storage holds)');
  catalog
    .command('rebuild')
    .description('recreate the catalog from the manifests and archives in storage (needs the key)')
    .action(async (_opts: object, command: Command) => {
      const options = optionsOf<object>(command);
      const result = await withRepository(options, (repo) => rebuildCatalog(repo));
      if (options.json) return printJson(result);
      for (const skipped of result.skipped) process.stderr.write(`warning: skipped ${skipped.key}: ${skipped.reason}\n`);
      process.stdout.write(`catalog rebuilt: ${result.backups} backups, ${result.entries} entries\n`);
    });
}
