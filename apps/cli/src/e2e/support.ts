import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = resolve(fileURLToPath(import.meta.url), '../../../../../bin/tresor.mjs');
export const PASSPHRASE = 'correct horse battery staple 42';

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the real `tresor` command as a separate process. With `withoutDacOverride`, it runs as
 * root without CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH, so file modes bind it like any user and
 * "permission denied" can be tested by a suite that runs as root.
 */
export function tresor(
  args: readonly string[],
  env: Record<string, string | undefined> = {},
  options: { withoutDacOverride?: boolean } = {},
): Promise<RunResult> {
  const [command, argv] = options.withoutDacOverride
    ? ['setpriv', ['--bounding-set=-dac_override,-dac_read_search', process.execPath, BIN, ...args]]
    : [process.execPath, [BIN, ...args]];
  return new Promise((resolvePromise) => {
    execFile(
      command,
      argv,
      { env: { ...process.env, TRESOR_PASSPHRASE: PASSPHRASE, TRESOR_REPO: undefined, ...env }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolvePromise({ code, stdout, stderr });
      },
    );
  });
}

/** A fresh temporary directory, removed by the returned cleanup. */
export async function tempDir(prefix = 'tresor-e2e-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/**
 * A generated key tree with what real key stores contain and what breaks naive tools:
 * unicode and spaces in names, empty files, deep nesting, modes 0600/0644/0400, a symlink,
 * identical contents in several places.
 */
export async function makeKeyTree(root: string): Promise<void> {
  const file = async (path: string, content: string | Buffer, mode = 0o600, mtime?: Date) => {
    const full = join(root, path);
    await mkdir(join(full, '..'), { recursive: true });
    await writeFile(full, content);
    await chmod(full, mode);
    if (mtime) await utimes(full, mtime, mtime);
  };
  const pem = (label: string, n: number) =>
    `-----BEGIN ${label}-----\n${createHash('sha512').update(`${label}${n}`).digest('base64').repeat(20)}\n-----END ${label}-----\n`;
  await file('tenants/acme/payments/tls.key', pem('PRIVATE KEY', 1), 0o600);
  await file('tenants/acme/payments/tls.crt', pem('CERTIFICATE', 1), 0o644);
  await file('tenants/acme/identity/signing.key', pem('PRIVATE KEY', 2), 0o400);
  await file('tenants/acme/identity/secrets.json', JSON.stringify({ db: 'secret-value', api: 'x'.repeat(500) }), 0o600);
  await file('tenants/globex/clés et données/clé privée.key', pem('PRIVATE KEY', 3), 0o600, new Date('2024-02-29T12:34:56.789Z'));
  await file('tenants/globex/with space/empty.key', '', 0o644);
  await file('tenants/globex/日本語/鍵.pem', pem('CERTIFICATE', 4), 0o644);
  await file('shared/ca.crt', pem('CERTIFICATE', 1), 0o644);
  await file('shared/copy-of-ca.crt', pem('CERTIFICATE', 1), 0o644);
  await file('keystore.bin', Buffer.alloc(300 * 1024, 7), 0o600);
  let deep = 'deep';
  for (let i = 0; i < 30; i++) deep = join(deep, `level-${i}`);
  await file(join(deep, 'buried.key'), pem('PRIVATE KEY', 5), 0o600);
  await symlink('tenants/acme/payments/tls.crt', join(root, 'current.crt'));
  await chmod(join(root, 'tenants/acme/identity'), 0o750);
}

export interface TreeEntry {
  readonly type: 'file' | 'dir' | 'symlink';
  readonly mode: number;
  readonly mtimeMs: number;
  readonly sha256?: string;
  readonly target?: string;
}

/** Everything that a byte-for-byte restore must preserve, keyed by relative path. */
export async function snapshotTree(root: string): Promise<Map<string, TreeEntry>> {
  const result = new Map<string, TreeEntry>();
  const walk = async (dir: string, prefix: string) => {
    for (const name of (await readdir(dir)).sort()) {
      const full = join(dir, name);
      const rel = prefix ? `${prefix}/${name}` : name;
      const stat = await lstat(full);
      const mode = stat.mode & 0o7777;
      const mtimeMs = Math.floor(stat.mtimeMs);
      if (stat.isSymbolicLink()) result.set(rel, { type: 'symlink', mode: 0, mtimeMs: 0, target: await readlink(full) });
      else if (stat.isDirectory()) {
        result.set(rel, { type: 'dir', mode, mtimeMs });
        await walk(full, rel);
      } else {
        const sha256 = createHash('sha256').update(await readFile(full)).digest('hex');
        result.set(rel, { type: 'file', mode, mtimeMs, sha256 });
      }
    }
  };
  await walk(root, '');
  return result;
}

/** Initialises a passphrase repository in `<dir>/repo` and returns its path. */
export async function initRepo(dir: string, extra: string[] = []): Promise<string> {
  const repo = join(dir, 'repo');
  const result = await tresor(['init', '--repo', repo, ...extra]);
  if (result.code !== 0) throw new Error(`init failed: ${result.stderr}`);
  return repo;
}

/** Runs a backup with --json and returns its parsed result. */
export async function backupJson(repo: string, path: string, args: string[] = [], env: Record<string, string> = {}) {
  const result = await tresor(['--repo', repo, '--json', 'backup', path, ...args], env);
  if (result.code !== 0) throw new Error(`backup failed (${result.code}): ${result.stderr}`);
  return JSON.parse(result.stdout) as { backupId: string; level: string; files: number; reusedFiles: number; bytesStored: number; bytesIn: number; warnings: string[] };
}
