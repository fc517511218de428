import { resolve } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '@tresor/errors';
import { runRestore, selectBackup } from '@tresor/repository';
import type { RestoreResult } from '@tresor/repository';
import { audited } from '../audit-trail.js';
import { optionsOf, withRepository } from '../context.js';
import { formatBytes, formatDuration, printJson } from '../format.js';
import { ProgressLine } from '../progress.js';
import { interactiveRestore } from '../interactive/interactive-restore.js';
import { collect } from './options.js';
import { remoteClient, remoteRestore } from '../remote/remote.js';
import { printApprovalRequested } from './approvals.command.js';

interface RestoreCommandOptions {
  target?: string;
  at?: string;
  source?: string;
  include: string[];
  exclude: string[];
  dryRun?: boolean;
  overwrite?: boolean;
  interactive?: boolean;
}

/** `tresor restore`: restores a backup (or the state at a point in time) into a directory. */
export function registerRestore(program: Command): void {
  program
    .command('restore')
    .description('restore a backup into a directory, verified and atomically')
    .argument('[id]', 'backup id, unique prefix, or latest', 'latest')
    .option('--target <dir>', 'directory to restore into')
    .option('--at <time>', 'restore the state at this ISO-8601 time (newest backup not after it)')
    .option('--source <path>', 'the source whose backups to consider (needed when there are several)')
    .option('--include <glob>', 'restore only entries matching (repeatable; `*.key` matches at any depth)', collect, [])
    .option('--exclude <glob>', 'leave out entries matching (repeatable)', collect, [])
    .option('--dry-run', 'show what would be restored, write nothing')
    .option('--overwrite', 'restore into a non-empty target, replacing files the backup has')
    .option('--interactive', 'pick the backup and the entries on the terminal')
    .action(async (id: string, _opts: RestoreCommandOptions, command: Command) => {
      const options = optionsOf<RestoreCommandOptions>(command);
      if (options.interactive) {
        await audited(options, 'restore.run', options.target ? resolve(options.target) : undefined, { interactive: true }, () => withRepository(options, (repo) => interactiveRestore(repo, options.target)));
        return;
      }
      if (!options.target) throw new UsageError('restore needs --target DIR');
      const at = options.at === undefined ? undefined : parseTime(options.at);
      if (at && id !== 'latest') throw new UsageError('give either a backup id or --at, not both');
      const target = resolve(options.target);
      const client = remoteClient(options);
      if (client) {
        const result = await remoteRestore(client, id, { target, at, source: options.source, include: options.include, exclude: options.exclude, dryRun: options.dryRun, overwrite: options.overwrite });
        if ('approval' in result) return printApprovalRequested(result.approval, options.json ?? false);
        return printRestoreResult(result, options.json ?? false);
      }
      const details = { backup: id, ...(at ? { at: at.toISOString() } : {}), dryRun: options.dryRun ?? false, overwrite: options.overwrite ?? false };
      await audited(options, 'restore.run', target, details, () => withRepository(options, async (repo) => {
        const backup = await selectBackup(repo.catalog, { id, at, sourceLocation: options.source });
        const progress = new ProgressLine('restoring', options.json);
        const result = await runRestore(repo, backup, {
          target,
          include: options.include,
          exclude: options.exclude,
          dryRun: options.dryRun,
          overwrite: options.overwrite,
          onProgress: (p) => progress.update(p.files, p.bytes, p.path),
        });
        progress.done();
        printRestoreResult(result, options.json ?? false);
        return { backupId: backup.id, files: result.files };
      }), (r) => r);
    });
}

/** Prints what a restore did (or would do). */
export function printRestoreResult(result: RestoreResult, json: boolean): void {
  for (const warning of result.warnings ?? []) process.stderr.write(`warning: ${warning}\n`);
  if (json) return printJson(result);
  if (result.dryRun) {
    for (const path of result.paths) process.stdout.write(`would restore ${path}\n`);
    const unlisted = result.files + result.dirs + result.symlinks - result.paths.length;
    if (result.pathsTruncated) process.stdout.write(`… and ${unlisted} more (only the first ${result.paths.length} are listed)\n`);
    process.stdout.write(`dry run: ${result.files} files (${formatBytes(result.bytes)}) from backup ${result.backupId}; nothing written\n`);
    return;
  }
  process.stdout.write(
    `restored ${result.files} files, ${result.dirs} directories, ${result.symlinks} symlinks (${formatBytes(result.bytes)}) ` +
      `from backup ${result.backupId} into ${result.target} in ${formatDuration(result.durationMs)}\n`,
  );
}

function parseTime(value: string): Date {
  const time = new Date(value);
  if (Number.isNaN(time.getTime())) throw new UsageError(`--at '${value}' is not an ISO-8601 time (e.g. 2026-11-26T08:00:00Z)`);
  return time;
}
