import { createWriteStream, readFileSync } from 'node:fs';
import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import type { AuditEntry, AuditVerifyReport } from '@tresor/contracts';
import { auditEntries, exportJsonl, exportSyslog, JsonlAuditStore } from '@tresor/audit-log';
import { createSyslogSender } from '@tresor/audit-log/syslog';
import { IntegrityError, UsageError } from '@tresor/errors';
import { readLocalConfig, localPaths, repositoryAuditDir, verifyRepositoryAudit } from '@tresor/repository';
import type { TresorClient } from '@tresor/client';
import { optionsOf, repoDir } from '../context.js';
import { printJson } from '../format.js';
import { remoteClient } from '../remote/remote.js';

interface ExportOptions {
  format?: string;
  syslogUrl?: string;
  syslogCa?: string;
  from?: string;
  output?: string;
}

/** `tresor audit verify|export`: the repository's (or, with --server, the cluster's) audit hash chain. */
export function registerAudit(program: Command): void {
  const audit = program.command('audit').description('the tamper-evident audit log: verify the hash chain, export it');

  audit
    .command('verify')
    .description('recompute the hash chain and check every signed checkpoint; exit 5 naming the first edited, deleted, inserted or reordered entry')
    .action(async (_opts: object, command: Command) => {
      const options = optionsOf<object>(command);
      const client = remoteClient(options);
      const report = client ? await client.audit.verify() : await verifyStandalone(repoDir(options));
      if (options.json) printJson(report);
      else printReport(report);
      if (!report.ok) throw new IntegrityError(`audit log verification failed: ${report.problem!.message}`);
    });

  audit
    .command('export')
    .description('write the audit entries as JSON lines (stdout or --output) or send them to syslog (RFC 5424)')
    .option('--format <format>', 'jsonl or syslog', 'jsonl')
    .option('--syslog-url <url>', 'udp://host:port, tcp://host:port or tls://host:port (with --format syslog)')
    .option('--syslog-ca <file>', 'CA certificate (PEM) the tls:// receiver must chain to (default: the system CAs)')
    .option('--from <seq>', 'first entry to export', '1')
    .option('--output <file>', 'write JSON lines to this file (created 0600, never overwritten) instead of stdout')
    .action(async (_opts: ExportOptions, command: Command) => {
      const options = optionsOf<ExportOptions>(command);
      const from = Number(options.from);
      if (!Number.isInteger(from) || from < 1) throw new UsageError(`--from ${options.from}: not a positive entry number`);
      const client = remoteClient(options);
      const entries = client ? remoteEntries(client, from) : await standaloneEntries(repoDir(options), from);
      let count: number;
      if (options.format === 'syslog') {
        if (!options.syslogUrl) throw new UsageError('--format syslog needs --syslog-url udp://host:port, tcp://host:port or tls://host:port');
        const sender = createSyslogSender(options.syslogUrl, options.syslogCa ? { ca: readCa(options.syslogCa) } : {});
        try {
          count = await exportSyslog(entries, sender);
        } finally {
          await sender.close();
        }
        process.stderr.write(`sent ${count} audit entries to ${options.syslogUrl}\n`);
      } else if (options.format === 'jsonl') {
        if (options.syslogUrl) throw new UsageError('--syslog-url needs --format syslog');
        const out: Writable = options.output ? createWriteStream(options.output, { flags: 'wx', mode: 0o600 }) : process.stdout;
        count = await exportJsonl(entries, out);
        if (options.output) {
          await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
          process.stderr.write(`wrote ${count} audit entries to ${options.output}\n`);
        }
      } else {
        throw new UsageError(`unknown --format '${options.format}' (choose jsonl or syslog)`);
      }
    });
}

async function verifyStandalone(dir: string): Promise<AuditVerifyReport> {
  await readLocalConfig(localPaths(dir).config);
  return verifyRepositoryAudit(dir);
}

async function standaloneEntries(dir: string, from: number): Promise<AsyncIterable<AuditEntry>> {
  await readLocalConfig(localPaths(dir).config);
  return auditEntries(new JsonlAuditStore(repositoryAuditDir(dir)), from);
}

async function* remoteEntries(client: TresorClient, from: number): AsyncIterable<AuditEntry> {
  for (let next: number | null = from; next !== null; ) {
    const page: { entries: AuditEntry[]; next: number | null } = await client.audit.entries(next, 1000);
    yield* page.entries;
    next = page.next;
  }
}

function readCa(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new UsageError(`--syslog-ca ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

function printReport(report: AuditVerifyReport): void {
  if (report.ok) {
    const tail = report.unprotectedEntries > 0 ? `; ${report.unprotectedEntries} entries after the last checkpoint are not yet covered by a signature` : '';
    process.stdout.write(`ok      ${report.entries} entries, ${report.checkpoints} signed checkpoints (last at entry ${report.lastCheckpointSeq})${tail}\n`);
    return;
  }
  process.stdout.write(`FAILED  entry ${report.problem!.seq}: ${report.problem!.kind}: ${report.problem!.message}\n`);
}
