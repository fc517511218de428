import { Command, CommanderError } from 'commander';
import { ExitCode, TresorError, redactText } from '@tresor/errors';
import { registerApprovals } from './commands/approvals.command.js';
import { registerAudit } from './commands/audit.command.js';
import { registerBackup } from './commands/backup.command.js';
import { registerCatalog } from './commands/catalog.command.js';
import { registerCompliance } from './commands/compliance.command.js';
import { registerConfig } from './commands/config.command.js';
import { registerDemo } from './commands/demo.command.js';
import { registerDrill } from './commands/drill.command.js';
import { registerExport } from './commands/export.command.js';
import { registerForget } from './commands/forget.command.js';
import { registerInit } from './commands/init.command.js';
import { registerKeys } from './commands/keys.command.js';
import { registerList } from './commands/list.command.js';
import { registerLogin } from './commands/login.command.js';
import { registerMonitor } from './commands/monitor.command.js';
import { registerRestore } from './commands/restore.command.js';
import { registerSchedule } from './commands/schedule.command.js';
import { registerShow } from './commands/show.command.js';
import { registerStorage } from './commands/storage.command.js';
import { registerTenant } from './commands/tenant.command.js';
import { registerTokens } from './commands/tokens.command.js';
import { registerVerify } from './commands/verify.command.js';

/** The `tresor` command tree. */
export function buildProgram(): Command {
  const program = new Command('tresor')
    .description('Back up and recover cryptographic keys and secrets: encrypted, verified, restorable to any point in time.')
    .version('0.1.0')
    .option('--repo <dir>', 'repository directory (default: $TRESOR_REPO, else ~/.local/share/tresor/repository)')
    .option('--server <url>', 'run through a Tresor cluster gateway (default: $TRESOR_SERVER); paths are on the cluster hosts')
    .option('--passphrase-env <var>', 'read the passphrase from this environment variable (default: TRESOR_PASSPHRASE)')
    .option('--identity <file>', 'private key (PEM, RSA or X25519) of a public-key slot, for restores')
    .option('--config <file>', 'the config file, YAML or JSON (default: $TRESOR_CONFIG; docs/configuration.md): schedule run, monitor, drill, compliance and forget read it instead of their own files')
    .option('--json', 'machine-readable output')
    .option('--debug', 'print stack traces of errors')
    .exitOverride()
    .showHelpAfterError(false)
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });
  registerInit(program);
  registerBackup(program);
  registerList(program);
  registerShow(program);
  registerRestore(program);
  registerVerify(program);
  registerCatalog(program);
  registerStorage(program);
  registerKeys(program);
  registerTenant(program);
  registerExport(program);
  registerAudit(program);
  registerForget(program);
  registerDemo(program);
  registerMonitor(program);
  registerDrill(program);
  registerCompliance(program);
  registerSchedule(program);
  registerLogin(program);
  registerTokens(program);
  registerApprovals(program);
  registerConfig(program);
  return program;
}

/** Runs the CLI on `argv` (user arguments only) and returns the exit code. */
export async function runCli(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return ExitCode.Ok;
  } catch (err) {
    return reportError(err, argv.includes('--debug'));
  }
}

/** One line on stderr for errors Tresor raised on purpose; a stack only with --debug; both through the redaction layer. */
function reportError(err: unknown, debug: boolean): number {
  if (err instanceof CommanderError) {
    // Commander already printed its message (or help/version, which exit 0).
    return err.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
  }
  if (err instanceof TresorError) {
    process.stderr.write(redactText(`tresor: ${err.message}\n`));
    if (debug && err.stack) process.stderr.write(redactText(`${err.stack}\n`));
    return err.exitCode;
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(redactText(`tresor: internal error: ${message} (rerun with --debug for details)\n`));
  if (debug && err instanceof Error && err.stack) process.stderr.write(redactText(`${err.stack}\n`));
  return ExitCode.Failure;
}
