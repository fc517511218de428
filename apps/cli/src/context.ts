import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { UsageError, registerSecret } from '@tresor/errors';
import type { KeySupplier, OpenOptions } from '@tresor/repository';
import { Repository } from '@tresor/repository';
import { askSecret } from './prompt.js';

/** Options every command accepts. */
export interface GlobalOptions {
  repo?: string;
  server?: string;
  json?: boolean;
  debug?: boolean;
  passphraseEnv?: string;
  identity?: string;
  /** The unified config file (docs/configuration.md), or a monitor.json for the monitoring commands. */
  config?: string;
}

/** The repository directory: --repo, then TRESOR_REPO, then the per-user default. */
export function repoDir(options: GlobalOptions): string {
  const dir = options.repo ?? process.env.TRESOR_REPO;
  if (dir) return resolve(dir);
  const dataHome = process.env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share');
  return join(dataHome, 'tresor', 'repository');
}

/** The options of a command merged with the program's global ones. */
export function optionsOf<T>(command: Command): T & GlobalOptions {
  return command.optsWithGlobals<T & GlobalOptions>();
}

/**
 * Secrets from where an operator can give them without exposing them on a command line:
 * a named environment variable, TRESOR_PASSPHRASE, or a no-echo prompt on a terminal.
 */
export function keySupplier(options: GlobalOptions): KeySupplier {
  return {
    passphrase: () => readPassphrase(options, 'Repository passphrase: '),
    pkcs11Pin: async (tokenLabel) => {
      const pin = process.env.TRESOR_PKCS11_PIN;
      if (!pin) throw new UsageError(`PKCS#11 token '${tokenLabel}' needs its PIN: set TRESOR_PKCS11_PIN`);
      return pin;
    },
    identityPem: async () => {
      const file = options.identity ?? process.env.TRESOR_IDENTITY;
      if (!file) throw new UsageError('this repository needs its private key to restore: pass --identity FILE (or set TRESOR_IDENTITY)');
      try {
        const pem = await readFile(file, 'utf8');
        registerSecret(pem);
        return pem;
      } catch (err) {
        throw new UsageError(`cannot read identity file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
      }
    },
  };
}

/** Reads the passphrase from --passphrase-env, TRESOR_PASSPHRASE or the terminal (and registers it for redaction). */
export async function readPassphrase(options: GlobalOptions, prompt: string): Promise<string> {
  const passphrase = await passphraseFrom(options, prompt);
  registerSecret(passphrase);
  return passphrase;
}

async function passphraseFrom(options: GlobalOptions, prompt: string): Promise<string> {
  if (options.passphraseEnv) {
    const value = process.env[options.passphraseEnv];
    if (!value) throw new UsageError(`--passphrase-env ${options.passphraseEnv}: that environment variable is not set or empty`);
    return value;
  }
  if (process.env.TRESOR_PASSPHRASE) return process.env.TRESOR_PASSPHRASE;
  if (process.stdin.isTTY) return askSecret(prompt);
  throw new UsageError('no passphrase: set TRESOR_PASSPHRASE, pass --passphrase-env VAR, or run on a terminal to be asked');
}

/** Opens the repository named by the options, runs `work`, and closes it whatever happens. */
export async function withRepository<T>(
  options: GlobalOptions,
  work: (repo: Repository) => Promise<T>,
  open: OpenOptions = {},
): Promise<T> {
  const repo = await Repository.open(repoDir(options), keySupplier(options), open);
  try {
    return await work(repo);
  } finally {
    await repo.close();
  }
}

/**
 * Tells the operator, on stderr, about each storage location that missed a write the quorum policy
 * still accepted (or could not be opened), so the gap is seen when it happens, not at restore time.
 */
export function warnDegraded(location: string, key: string, error: unknown): void {
  const what =
    key === '(open)' ? 'could not be opened' : key.endsWith('*') ? `could not list ${key}` : `missed ${key}`;
  const reason = error instanceof Error ? error.message : String(error);
  process.stderr.write(`warning: storage location ${location} ${what} (${reason}); run \`tresor storage sync\` once it is back\n`);
}
