import { resolve } from 'node:path';
import type { Command } from 'commander';
import { CODECS, parseCodec, validateLevel } from '@tresor/archive';
import type { BackupLevel } from '@tresor/catalog';
import { UsageError } from '@tresor/errors';
import { runBackup } from '@tresor/repository';
import { FilesystemSource } from '@tresor/source';
import { audited } from '../audit-trail.js';
import { optionsOf, warnDegraded, withRepository } from '../context.js';
import { formatBytes, formatDuration, printJson } from '../format.js';
import { ProgressLine } from '../progress.js';
import { parseInteger } from './init.command.js';
import { collect } from './options.js';
import { remoteBackup, remoteClient } from '../remote/remote.js';
import type { BackupResult } from '@tresor/repository';

interface BackupCommandOptions {
  level: string;
  compression?: string;
  compressionLevel?: string;
  tag: string[];
  skipUnreadable?: boolean;
}

const LEVELS: readonly BackupLevel[] = ['full', 'incremental', 'differential'];

/** `tresor backup PATH`: backs up a directory of keys and secrets. */
export function registerBackup(program: Command): void {
  program
    .command('backup')
    .description('back up a directory')
    .argument('<path>', 'directory to back up')
    .option('--level <level>', 'full, incremental or differential', 'incremental')
    .option('--compression <codec>', 'none, gzip, brotli, xz, bzip2, zstd (default: the repository default)')
    .option('--compression-level <n>', 'level for the codec')
    .option('--tag <tag>', 'label the backup (repeatable)', collect, [])
    .option('--skip-unreadable', 'continue past files that cannot be read, listing them as warnings')
    .action(async (path: string, _opts: BackupCommandOptions, command: Command) => {
      const options = optionsOf<BackupCommandOptions>(command);
      const level = options.level as BackupLevel;
      if (!LEVELS.includes(level)) throw new UsageError(`unknown --level '${options.level}' (choose full, incremental or differential)`);
      const client = remoteClient(options);
      if (client) {
        const compression = options.compression ? { codec: parseCodec(options.compression), level: options.compressionLevel !== undefined ? parseInteger(options.compressionLevel) : CODECS[parseCodec(options.compression)].defaultLevel } : undefined;
        return printBackupResult(await remoteBackup(client, path, { level, tag: options.tag, skipUnreadable: options.skipUnreadable, compression }), options.json);
      }
      const source = new FilesystemSource(path);
      const details = { requestedLevel: level, tags: options.tag };
      await audited(options, 'backup.create', resolve(path), details, () => withRepository(options, async (repo) => {
        const compression = chooseCompression(options, repo.config.compression);
        const progress = new ProgressLine('backing up', options.json);
        const result = await runBackup(repo, source, {
          level,
          compression,
          tags: options.tag,
          skipUnreadable: options.skipUnreadable,
          onProgress: (p) => progress.update(p.files, p.bytesIn, p.path),
        });
        progress.done();
        printBackupResult(result, options.json);
        return result;
      }, { onDegraded: warnDegraded }), (r) => ({ backupId: r.backupId, level: r.level, files: r.files }));
    });
}

/** Prints a finished backup (standalone and remote). */
function printBackupResult(result: BackupResult, json: boolean | undefined): void {
        for (const warning of result.warnings) process.stderr.write(`warning: ${warning}\n`);
        if (json) return printJson(result);
        const ratio = result.bytesStored === 0 ? 1 : result.bytesIn / result.bytesStored;
        const note = result.level !== result.requestedLevel ? ` (no earlier backup of this source: ${result.level})` : '';
        process.stdout.write(
          [
            `backup ${result.backupId} completed${note}`,
            `  level      ${result.level}${result.parentId ? ` (parent ${result.parentId})` : ''}`,
            `  files      ${result.files} (${result.reusedFiles} unchanged or deduplicated), ${result.dirs} directories, ${result.symlinks} symlinks`,
            `  bytes in   ${formatBytes(result.bytesIn)}`,
            `  bytes out  ${formatBytes(result.bytesStored)} (archive ${formatBytes(result.archiveSize)})`,
            `  ratio      ${ratio.toFixed(2)}`,
            `  duration   ${formatDuration(result.durationMs)}`,
          ].join('\n') + '\n',
        );
}

function chooseCompression(options: BackupCommandOptions, defaults: { codec: ReturnType<typeof parseCodec>; level: number }) {
  const codec = options.compression ? parseCodec(options.compression) : defaults.codec;
  const level =
    options.compressionLevel !== undefined
      ? parseInteger(options.compressionLevel)
      : codec === defaults.codec
        ? defaults.level
        : CODECS[codec].defaultLevel;
  validateLevel(codec, level);
  return { codec, level };
}
