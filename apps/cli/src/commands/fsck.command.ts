import type { Command } from 'commander';
import { IntegrityError } from '@tresor/errors';
import { fsckRepository } from '@tresor/repository';
import { optionsOf, warnDegraded, withRepository } from '../context.js';
import { parseDurationMs } from './duration.js';
import { formatBytes, printJson } from '../format.js';
import { remoteClient } from '../remote/remote.js';

interface FsckOptions {
  readData?: boolean;
  repair?: boolean;
  olderThan: string;
}

/** `tresor fsck`: the catalog against every storage location (standalone; with --server the cluster's, run by its monitoring service). */
export function registerFsck(program: Command): void {
  program
    .command('fsck')
    .description(
      'check that the catalog matches every storage location: no orphan objects, no backup without its objects, sizes and hashes as recorded (--read-data hashes every archive; --server: the cluster\'s catalog and storage, checked by its monitoring service, admins only)',
    )
    .option('--read-data', 'also read every archive in every location and check its SHA-256')
    .option(
      '--repair',
      'delete orphan objects (archives, manifests, keyrings of backups the catalog does not know) older than --older-than; never what a catalogued backup reads, never objects under retention',
    )
    .option('--older-than <duration>', 'with --repair: only orphans older than this (longer than the longest backup job)', '24h')
    .action(async (_opts: FsckOptions, command: Command) => {
      const options = optionsOf<FsckOptions>(command);
      const repair = options.repair ? { olderThanMs: parseDurationMs(options.olderThan, '--older-than') } : undefined;
      const client = remoteClient(options);
      // In a cluster the monitoring service runs the same check: it sees the catalog and the storage.
      const report = client
        ? await client.repository.fsck({ readData: options.readData ?? false, ...(repair ? { repair: { olderThanSeconds: Math.ceil(repair.olderThanMs / 1000) } } : {}) })
        : await withRepository(options, (repo) => fsckRepository(repo, { readData: options.readData, repair }), { onDegraded: warnDegraded });
      if (options.json) printJson(report);
      else {
        for (const r of report.repairs) {
          const what = r.outcome === 'deleted' ? 'DELETED' : r.outcome === 'failed' ? 'NOT DELETED' : `KEPT (${r.outcome})`;
          process.stdout.write(`${what.padEnd(12)} ${r.location}: ${r.key}${r.detail ? ` (${r.detail})` : ''}\n`);
        }
        for (const finding of report.findings) process.stdout.write(`${finding.kind.toUpperCase().padEnd(12)} ${finding.problem}\n`);
        const read = report.readData ? `, ${formatBytes(report.bytesRead)} of archives hashed` : '';
        process.stdout.write(
          `${report.backups} backups, ${report.objects} objects in ${report.locations.length} location(s)${read}: ` +
            (report.ok ? 'consistent\n' : `${report.findings.length} problem(s)\n`),
        );
      }
      if (!report.ok) {
        const kinds = [...new Set(report.findings.map((f) => f.kind))].join(', ');
        throw new IntegrityError(`fsck found ${report.findings.length} problem(s) (${kinds}); first: ${report.findings[0]!.problem}`);
      }
    });
}
