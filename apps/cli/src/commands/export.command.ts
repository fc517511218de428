import { resolve } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '@tresor/errors';
import { EXPORT_FORMATS, runExport, selectBackup } from '@tresor/repository';
import type { ExportEncryption, ExportFormat } from '@tresor/repository';
import { audited } from '../audit-trail.js';
import { optionsOf, withRepository } from '../context.js';
import { formatBytes, printJson } from '../format.js';
import { collect } from './options.js';

interface ExportCommandOptions {
  format: string;
  output?: string;
  encrypt?: string;
  recipient: string[];
  exportPassphraseEnv?: string;
  fernetKeyEnv?: string;
  include: string[];
  exclude: string[];
}

/** `tresor export`: a backup's files as a standard tar/zip (optionally age-encrypted) or a Fernet token. */
export function registerExport(program: Command): void {
  program
    .command('export')
    .description('write a backup as a standard archive readable without tresor: tar, tar.gz, zip (optionally age-encrypted) or fernet')
    .argument('[id]', 'backup id, unique prefix, or latest', 'latest')
    .requiredOption('--output <file>', 'file to create (mode 0600; never overwritten)')
    .option('--format <format>', `${EXPORT_FORMATS.join(', ')}`, 'tar.gz')
    .option('--encrypt <scheme>', 'age: encrypt to --recipient(s), or with --export-passphrase-env')
    .option('--recipient <age1…>', 'age recipient (repeatable)', collect, [])
    .option('--export-passphrase-env <var>', 'age passphrase (scrypt) from this environment variable')
    .option('--fernet-key-env <var>', 'Fernet key (URL-safe base64, 32 bytes) from this environment variable, for --format fernet')
    .option('--include <glob>', 'only entries matching (repeatable)', collect, [])
    .option('--exclude <glob>', 'skip entries matching (repeatable)', collect, [])
    .action(async (id: string, _opts: ExportCommandOptions, command: Command) => {
      const options = optionsOf<ExportCommandOptions>(command);
      const format = options.format as ExportFormat;
      if (!EXPORT_FORMATS.includes(format)) throw new UsageError(`unknown --format '${options.format}' (choose ${EXPORT_FORMATS.join(', ')})`);
      let encryption: ExportEncryption | undefined;
      if (options.encrypt !== undefined && options.encrypt !== 'age') throw new UsageError(`unknown --encrypt '${options.encrypt}' (only age)`);
      if (options.encrypt === 'age' || options.recipient.length > 0 || options.exportPassphraseEnv) {
        if (options.recipient.length > 0 && options.exportPassphraseEnv) throw new UsageError('give age --recipient(s) or --export-passphrase-env, not both');
        if (options.exportPassphraseEnv) {
          const passphrase = process.env[options.exportPassphraseEnv];
          if (!passphrase) throw new UsageError(`--export-passphrase-env ${options.exportPassphraseEnv}: that environment variable is not set or empty`);
          encryption = { type: 'age-passphrase', passphrase };
        } else encryption = { type: 'age', recipients: options.recipient };
      }
      let fernetKey: string | undefined;
      if (options.fernetKeyEnv) {
        fernetKey = process.env[options.fernetKeyEnv];
        if (!fernetKey) throw new UsageError(`--fernet-key-env ${options.fernetKeyEnv}: that environment variable is not set or empty`);
      }
      const output = resolve(options.output!);
      // Exporting writes key material out of Tresor's protection: audited like a restore.
      const details = { backup: id, format, encrypted: encryption !== undefined || format === 'fernet' };
      const result = await audited(options, 'backup.export', output, details, () =>
        withRepository(options, async (repo) =>
          runExport(repo, await selectBackup(repo.catalog, { id }), { format, output, encryption, fernetKey, include: options.include, exclude: options.exclude }),
        ),
        (r) => ({ backupId: r.backupId, files: r.files }),
      );
      if (options.json) printJson(result);
      else process.stdout.write(`exported ${result.files} files (${formatBytes(result.bytes)}) of backup ${result.backupId} to ${result.output} (${result.format}${result.encrypted ? ', encrypted' : ', NOT encrypted: protect this file'})\n`);
    });
}
