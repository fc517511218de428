import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const TRESOR = resolve(fileURLToPath(import.meta.url), '../../bin/tresor.mjs');
const PASSWORD = 'benchmark passphrase, not secret';

/** The commands one tool runs for each benchmark scenario. */
export interface Tool {
  readonly name: string;
  readonly env: Record<string, string>;
  init(repo: string): string[];
  backup(repo: string, tree: string, label: string): string[];
  restore(repo: string, target: string): string[];
  restoreKeys(repo: string, target: string): string[];
  verifyDeep(repo: string): string[];
  /** The working directory a restore command must run in (borg extracts into the cwd). */
  restoreCwd?(target: string): string;
}

export const tresor: Tool = {
  name: 'tresor',
  env: { TRESOR_PASSPHRASE: PASSWORD },
  init: (repo) => [process.execPath, TRESOR, 'init', '--repo', repo],
  backup: (repo, tree) => [process.execPath, TRESOR, '--repo', repo, 'backup', tree],
  restore: (repo, target) => [process.execPath, TRESOR, '--repo', repo, 'restore', 'latest', '--target', target],
  restoreKeys: (repo, target) => [
    process.execPath, TRESOR, '--repo', repo, 'restore', 'latest', '--target', target, '--include', '*.key',
  ],
  verifyDeep: (repo) => [process.execPath, TRESOR, '--repo', repo, 'verify', '--all', '--deep'],
};

export const restic: Tool = {
  name: 'restic',
  env: { RESTIC_PASSWORD: PASSWORD, RESTIC_CACHE_DIR: '/tmp/tresor-bench-restic-cache' },
  init: (repo) => ['restic', '--repo', repo, 'init'],
  backup: (repo, tree) => ['restic', '--repo', repo, 'backup', '--quiet', tree],
  restore: (repo, target) => ['restic', '--repo', repo, 'restore', 'latest', '--target', target],
  restoreKeys: (repo, target) => ['restic', '--repo', repo, 'restore', 'latest', '--target', target, '--include', '*.key'],
  verifyDeep: (repo) => ['restic', '--repo', repo, 'check', '--read-data'],
};

export const borg: Tool = {
  name: 'borg',
  env: { BORG_PASSPHRASE: PASSWORD, BORG_BASE_DIR: '/tmp/tresor-bench-borg-base', BORG_RELOCATED_REPO_ACCESS_IS_OK: 'yes' },
  init: (repo) => ['borg', 'init', '--encryption', 'repokey-blake2', repo],
  backup: (repo, tree, label) => ['borg', 'create', '--compression', 'zstd,3', `${repo}::${label}`, tree],
  restore: (repo) => ['borg', 'extract', `${repo}::${LAST}`],
  restoreKeys: (repo) => ['borg', 'extract', `${repo}::${LAST}`, '--pattern=+sh:**/*.key', '--pattern=-sh:**'],
  verifyDeep: (repo) => ['borg', 'check', '--verify-data', repo],
  restoreCwd: (target) => target,
};

/** borg names archives; the runner labels the last backup of a repetition with this. */
export const LAST = 'last';

export const TOOLS = [tresor, restic, borg];

export const scratch = (root: string, ...parts: string[]) => join(root, ...parts);
