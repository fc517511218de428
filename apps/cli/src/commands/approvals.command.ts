import type { Command } from 'commander';
import { APPROVAL_STATES } from '@tresor/contracts';
import type { ApprovalRequestDto, ApprovalState } from '@tresor/contracts';
import { UsageError } from '@tresor/errors';
import { optionsOf } from '../context.js';
import type { GlobalOptions } from '../context.js';
import { formatTable, printJson } from '../format.js';
import { askSecret } from '../prompt.js';
import { remoteClient } from '../remote/remote.js';

const collect = (v: string, prev: string[]): string[] => [...prev, v];

function client(options: GlobalOptions) {
  const c = remoteClient(options);
  if (!c) throw new UsageError('tresor approvals talks to a cluster gateway: give --server URL or set TRESOR_SERVER');
  return c;
}

/** What `tresor restore` prints when the gateway answered with an approval request instead of a job. */
export function printApprovalRequested(approval: ApprovalRequestDto, json: boolean): void {
  if (json) return printJson({ approval });
  process.stdout.write(
    `restore of ${approval.source} waits for dual control: approval request ${approval.id} needs ${approval.requiredApprovals} custodian approvals before ${approval.expiresAt}\n` +
      `custodians: tresor approvals approve ${approval.id}\n`,
  );
}

function describe(a: ApprovalRequestDto): string {
  const lines = [
    `${a.id}  ${a.state}  ${a.approvals.length}/${a.requiredApprovals} approvals`,
    `  restore ${a.backupId} of ${a.source} (tenant ${a.tenant}) into ${a.restore.target}${a.restore.dryRun ? ' (dry run)' : ''}`,
    `  requested by ${a.requester.name} at ${a.createdAt}, expires ${a.expiresAt}`,
  ];
  if (a.approvals.length) lines.push(`  approved by ${a.approvals.map((x) => x.name).join(', ')}`);
  if (a.rejection) lines.push(`  rejected by ${a.rejection.name}: ${a.rejection.reason}`);
  if (a.jobId) lines.push(`  job ${a.jobId}`);
  return `${lines.join('\n')}\n`;
}

/** `tresor approvals list|show|approve|reject`: dual control of restores of sensitive sources (custodians). */
export function registerApprovals(program: Command): void {
  const approvals = program.command('approvals').description('dual control: restore requests of sensitive sources waiting for custodians (list, show, approve, reject)');

  approvals
    .command('list')
    .description('list approval requests of your tenants, newest first')
    .option('--state <state>', `only requests in this state (repeat): ${APPROVAL_STATES.join(', ')}`, collect, [])
    .action(async (_: unknown, command: Command) => {
      const options = optionsOf<GlobalOptions & { state: string[] }>(command);
      const bad = options.state.find((s) => !(APPROVAL_STATES as readonly string[]).includes(s));
      if (bad) throw new UsageError(`--state '${bad}' is not one of ${APPROVAL_STATES.join(', ')}`);
      const list = await client(options).approvals.list({ state: options.state as ApprovalState[] });
      if (options.json) return printJson(list);
      process.stdout.write(
        formatTable(
          ['id', 'state', 'approvals', 'source', 'target', 'requester', 'expires'],
          list.map((a) => [a.id, a.state, `${a.approvals.length}/${a.requiredApprovals}`, a.source, a.restore.target, a.requester.name, a.expiresAt]),
        ),
      );
    });

  approvals
    .command('show <id>')
    .description('show one approval request')
    .action(async (id: string, _: unknown, command: Command) => {
      const options = optionsOf<GlobalOptions>(command);
      const a = await client(options).approvals.get(id);
      if (options.json) printJson(a);
      else process.stdout.write(describe(a));
    });

  approvals
    .command('approve <id>')
    .description('approve a request (custodians; not your own): asks for your password again; the last approval needed starts the restore')
    .option('--password-env <var>', 'read your password from this environment variable (automation; default: ask)')
    .action(async (id: string, _: unknown, command: Command) => {
      const options = optionsOf<GlobalOptions & { passwordEnv?: string }>(command);
      const c = client(options);
      const me = await c.auth.me();
      const password = options.passwordEnv ? process.env[options.passwordEnv] : await askSecret(`Password for ${me.name} (approving ${id}): `);
      if (!password) throw new UsageError(options.passwordEnv ? `environment variable ${options.passwordEnv} is empty or unset` : 'empty password');
      const { approval, job } = await c.approvals.approve(id, password);
      if (options.json) return printJson({ approval, job });
      process.stdout.write(
        job
          ? `approved ${id} (${approval.approvals.length}/${approval.requiredApprovals}): restore job ${job.id} queued\n`
          : `approved ${id} (${approval.approvals.length}/${approval.requiredApprovals}): waiting for ${approval.requiredApprovals - approval.approvals.length} more\n`,
      );
    });

  approvals
    .command('reject <id>')
    .description('reject a request (custodians): it ends and never runs')
    .requiredOption('--reason <text>', 'why (recorded in the audit log)')
    .action(async (id: string, _: unknown, command: Command) => {
      const options = optionsOf<GlobalOptions & { reason: string }>(command);
      const a = await client(options).approvals.reject(id, options.reason);
      if (options.json) printJson(a);
      else process.stdout.write(`rejected ${id}: the restore will not run\n`);
    });
}
