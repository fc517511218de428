import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { ComplianceReport } from '@tresor/assurance';
import { ExitCode, TresorError, UsageError } from '@tresor/errors';
import { loadScheduleFile } from '@tresor/scheduling';
import type { LoadedSchedule } from '@tresor/scheduling';
import { configuredSchedules } from '../config-file.js';
import { optionsOf, repoDir, withRepository } from '../context.js';
import type { GlobalOptions } from '../context.js';
import { formatTable } from '../format.js';
import { remoteClient } from '../remote/remote.js';
import { monitorConfigOf } from './monitor-checks.js';

interface ComplianceOptions {
  format?: string;
  output?: string;
  config?: string;
}

/** `tresor compliance report`: controls per source with evidence (docs/compliance.md). */
export function registerCompliance(program: Command): void {
  const compliance = program.command('compliance').description('compliance: evaluate backup controls with evidence');
  compliance
    .command('report')
    .description('evaluate the controls of every source (schedule, frequency, retention, encryption, immutability, restore drill, dual control) and the repository (KEK cryptoperiods, audit chain); alert on failures; exit 1 if a control fails (--server: the cluster\'s report, evaluated by its monitoring service)')
    .option('--format <format>', 'text, json or html (default text; --json means json)')
    .option('--output <file>', 'write the report to this file instead of stdout')
    .option('--config <file>', 'monitoring config (default <repo>/monitor.json)')
    .action(async (_opts: ComplianceOptions, command: Command) => {
      const options = optionsOf<ComplianceOptions>(command);
      const format = options.format ?? (options.json ? 'json' : 'text');
      if (!['text', 'json', 'html'].includes(format)) throw new UsageError(`--format '${format}': expected text, json or html`);
      const { renderComplianceHtml } = await import('@tresor/assurance');
      const client = remoteClient(options);
      // In a cluster the monitoring service evaluates the controls and raises the alerts (compliance.watch).
      const report = client ? await client.compliance.report() : await standaloneReport(options);
      const text = format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : format === 'html' ? renderComplianceHtml(report) : formatReport(report);
      if (options.output) await writeFile(options.output, text, { mode: 0o600 });
      else process.stdout.write(text);
      if (report.totals.fail > 0) throw new TresorError(`${report.totals.fail} control(s) failed`, 'COMPLIANCE_FAILED', ExitCode.Failure);
    });
}

/** The report of a standalone repository; failed controls alert through its own alert history and channels. */
async function standaloneReport(options: ComplianceOptions & GlobalOptions): Promise<ComplianceReport> {
  const { alertOnCompliance, complianceReport, drillStoreOf, openStandaloneAlerting, repositorySubject } = await import('@tresor/assurance');
  const config = await monitorConfigOf(options);
  const dir = repoDir(options);
  const { schedules, problem } = (await configuredSchedules(options)) ?? (await readSchedules(config.compliance.scheduleFile ?? process.env.TRESOR_SCHEDULES ?? join(dir, 'schedules.json')));
  const drills = await drillStoreOf(dir).list();
  const report = await withRepository(options, (repo) => complianceReport(repositorySubject(repo), config, { schedules, ...(problem ? { schedulesProblem: problem } : {}), drills }));
  const alerting = await openStandaloneAlerting(dir, config, { oneShot: true });
  try {
    await alertOnCompliance(alerting.manager, report);
  } finally {
    await alerting.close();
  }
  return report;
}

async function readSchedules(file: string): Promise<{ schedules: LoadedSchedule[]; problem?: string }> {
  try {
    return { schedules: await loadScheduleFile(file) };
  } catch (err) {
    return { schedules: [], problem: (err as Error).message };
  }
}

function formatReport(report: ComplianceReport): string {
  const rows = [
    ...report.repository.map((f) => ['(repository)', f.control, f.status.toUpperCase(), f.summary]),
    ...report.sources.flatMap((s) => s.findings.map((f) => [s.source, f.control, f.status.toUpperCase(), f.summary])),
  ];
  const t = report.totals;
  return `${formatTable(['SCOPE', 'CONTROL', 'STATUS', 'FINDING'], rows)}\n${t.pass} passed, ${t.fail} failed, ${t['not-evaluated']} not evaluated, ${t['not-applicable']} not applicable\n`;
}
