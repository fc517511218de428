import type { Command } from 'commander';
import { IntegrityError, UsageError } from '@tresor/errors';
import { selectBackup, verifyBackup, VerifyRun } from '@tresor/repository';
import type { VerifyReport } from '@tresor/repository';
import { optionsOf, withRepository } from '../context.js';
import { printJson } from '../format.js';
import { remoteClient, remoteVerify } from '../remote/remote.js';

interface VerifyOptions {
  all?: boolean;
  deep?: boolean;
}

/** `tresor verify`: checks stored backups, without keys or (--deep) by decrypting everything. */
export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description('check backups: stored hashes and signatures; --deep decrypts and checks every entry')
    .argument('[id]', 'backup id or unique prefix')
    .option('--all', 'verify every backup')
    .option('--deep', 'decrypt: every frame, the entry table and every entry hash (needs the key)')
    .action(async (id: string | undefined, _opts: VerifyOptions, command: Command) => {
      const options = optionsOf<VerifyOptions>(command);
      if (!id && !options.all) throw new UsageError('verify needs a backup id or --all');
      if (id && options.all) throw new UsageError('give either a backup id or --all, not both');
      const client = remoteClient(options);
      if (client) return remoteVerify(client, id, options);
      const reports: VerifyReport[] = await withRepository(options, async (repo) => {
        const backups = options.all ? await repo.catalog.listBackups() : [await selectBackup(repo.catalog, { id })];
        const results: VerifyReport[] = [];
        const run = new VerifyRun(repo);
        for (const backup of backups) {
          const report = await verifyBackup(repo, backup, { deep: options.deep, run });
          results.push(report);
          for (const warning of report.warnings ?? []) process.stderr.write(`warning: ${warning}\n`);
          if (!options.json) {
            process.stdout.write(report.ok ? `ok      ${report.backupId}${report.deep ? ` (${report.entriesChecked} entries)` : ''}\n` : `FAILED  ${report.problem}\n`);
          }
        }
        return results;
      });
      const failed = reports.filter((r) => !r.ok);
      if (options.json) printJson({ ok: failed.length === 0, reports });
      else process.stdout.write(`${reports.length - failed.length} of ${reports.length} backups verified${options.deep ? ' (deep)' : ''}\n`);
      if (failed.length > 0) {
        throw new IntegrityError(`${failed.length} of ${reports.length} backups failed verification; first: ${failed[0]!.problem}`);
      }
    });
}
