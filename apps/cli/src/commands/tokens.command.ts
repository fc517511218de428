import type { Command } from 'commander';
import { UsageError } from '@tresor/errors';
import { optionsOf } from '../context.js';
import type { GlobalOptions } from '../context.js';
import { formatTable, printJson } from '../format.js';
import { remoteClient } from '../remote/remote.js';

interface CreateOptions {
  name: string;
  role: string[];
  tenant: string[];
  ttl: string;
}

const collect = (v: string, prev: string[]): string[] => [...prev, v];

/** `90d`, `12h`, `30m` or seconds, as seconds. */
export function parseTtl(text: string): number {
  const m = /^(\d+)([smhd]?)$/.exec(text.trim());
  if (!m) throw new UsageError(`--ttl '${text}' is not a duration like 90d, 12h, 30m or 3600`);
  return Number(m[1]) * { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
}

function client(options: GlobalOptions) {
  const c = remoteClient(options);
  if (!c) throw new UsageError('tresor tokens talks to a cluster gateway: give --server URL or set TRESOR_SERVER');
  return c;
}

/** `tresor tokens create|list|revoke`: API tokens for automation (admins). */
export function registerTokens(program: Command): void {
  const tokens = program.command('tokens').description('API tokens for automation: create (shown once), list, revoke');

  tokens
    .command('create')
    .description('create an API token; it is printed once and stored only as a hash')
    .requiredOption('--name <name>', 'what the token is for, e.g. ci-nightly')
    .option('--role <role>', 'a role of the token (repeat): admin, operator, auditor, custodian, viewer', collect, [])
    .option('--tenant <tenant>', 'a tenant the token may act in (repeat; default: yours)', collect, [])
    .option('--ttl <duration>', 'lifetime: 90d, 12h, 30m or seconds', '90d')
    .action(async (_: unknown, command: Command) => {
      const options = optionsOf<CreateOptions>(command);
      if (options.role.length === 0) throw new UsageError('give at least one --role');
      const roles = options.role as ('admin' | 'operator' | 'auditor' | 'custodian' | 'viewer')[];
      const { token, info } = await client(options).tokens.create({ name: options.name, roles, ...(options.tenant.length ? { tenants: options.tenant } : {}), ttlSeconds: parseTtl(options.ttl) });
      if (options.json) printJson({ token, ...info });
      else process.stdout.write(`${token}\n`);
      process.stderr.write(`token ${info.id} (${info.name}) expires ${info.expiresAt}; it is shown only now: store it in your secret manager\n`);
    });

  tokens
    .command('list')
    .description('list API tokens (never their secrets)')
    .action(async (_: unknown, command: Command) => {
      const options = optionsOf<GlobalOptions>(command);
      const list = await client(options).tokens.list();
      if (options.json) printJson(list);
      else process.stdout.write(formatTable(['id', 'name', 'roles', 'tenants', 'created by', 'expires'], list.map((t) => [t.id, t.name, t.roles.join(','), t.tenants.join(','), t.createdBy, t.expiresAt])));
    });

  tokens
    .command('revoke <id>')
    .description('revoke (delete) an API token: it stops working at once')
    .action(async (id: string, _: unknown, command: Command) => {
      const options = optionsOf<GlobalOptions>(command);
      await client(options).tokens.revoke(id);
      if (options.json) printJson({ id, revoked: true });
      else process.stdout.write(`revoked API token ${id}\n`);
    });
}
