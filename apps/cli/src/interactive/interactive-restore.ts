import { resolve } from 'node:path';
import { UsageError } from '@tresor/errors';
import type { Repository } from '@tresor/repository';
import { runRestore, selectBackup } from '@tresor/repository';
import { formatBytes } from '../format.js';
import { printRestoreResult } from '../commands/restore.command.js';

const io = { output: process.stderr };

/**
 * `tresor restore --interactive`: pick a backup or a point in time, pick entries, preview and
 * confirm. The restore itself is the same verified, atomic one as the non-interactive command.
 */
export async function interactiveRestore(repo: Repository, givenTarget?: string): Promise<void> {
  if (!process.stdin.isTTY) throw new UsageError('--interactive needs a terminal');
  // Loaded here, not at start-up: every other command would pay for the prompt library.
  const { checkbox, confirm, input, select } = await import('@inquirer/prompts');
  const backups = await repo.catalog.listBackups();
  if (backups.length === 0) throw new UsageError('the repository has no backups yet');
  const sources = new Map((await repo.catalog.listSources()).map((s) => [s.id, s.location]));

  const choice = await select(
    {
      message: 'Restore from',
      pageSize: 15,
      choices: [
        { name: 'a point in time…', value: '@time' },
        ...backups
          .slice()
          .reverse()
          .map((b) => ({
            name: `${b.id}  ${b.level.padEnd(12)} ${sources.get(b.sourceId) ?? ''}  ${b.files} files`,
            value: b.id,
          })),
      ],
    },
    io,
  );
  const backup =
    choice === '@time'
      ? await selectBackup(repo.catalog, { at: new Date(await input({ message: 'Time (ISO-8601, e.g. 2026-11-26T08:00:00Z)', validate: isTime }, io)) })
      : await selectBackup(repo.catalog, { id: choice });

  const how = await select(
    {
      message: `Entries of ${backup.id}`,
      choices: [
        { name: 'everything', value: 'all' },
        { name: 'by glob pattern (e.g. *.key)', value: 'glob' },
        { name: 'pick from the list', value: 'pick' },
      ],
    },
    io,
  );
  let include: string[] = [];
  if (how === 'glob') include = [await input({ message: 'Glob pattern', required: true }, io)];
  if (how === 'pick') {
    const files: { name: string; value: string }[] = [];
    for await (const entry of repo.catalog.entries(backup.id)) {
      if (entry.type !== 'dir') files.push({ name: `${entry.path}  ${formatBytes(entry.size)}`, value: entry.path });
    }
    include = await checkbox({ message: 'Entries to restore (space to pick, enter to go on)', choices: files, pageSize: 20, required: true }, io);
    include = include.map(escapeGlob);
  }
  const target = resolve(givenTarget ?? (await input({ message: 'Restore into directory', required: true }, io)));
  const overwrite = await confirm({ message: 'Replace files that already exist in the target?', default: false }, io);

  const preview = await runRestore(repo, backup, { target, include, dryRun: true, overwrite });
  process.stderr.write(`${preview.files} files (${formatBytes(preview.bytes)}), ${preview.dirs} directories -> ${target}\n`);
  if (!(await confirm({ message: 'Restore now?', default: false }, io))) {
    process.stderr.write('nothing restored\n');
    return;
  }
  printRestoreResult(await runRestore(repo, backup, { target, include, overwrite }), false);
}

function isTime(value: string): true | string {
  return Number.isNaN(new Date(value).getTime()) ? 'not an ISO-8601 time' : true;
}

/** Turns a literal path into a glob that matches only it. */
function escapeGlob(path: string): string {
  return path.replace(/[*?[\]{}()!+@\\]/g, '\\$&');
}
