import { execFileSync } from 'node:child_process';
import { link, lstat, mkdir, readdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initRepo, removeDir, tempDir, tresor } from '../../apps/cli/src/e2e/support.js';

/**
 * Sources an attacker (or an accident) shaped: names with control characters and invalid UTF-8,
 * symlinks out of the tree, hard links, FIFOs and device files. The backup says what it left out
 * (never silently), nothing is followed or opened that is not a regular file, and the restore
 * writes only inside its target, never printing raw control characters.
 */
describe('hostile sources', () => {
  let dir: string;
  let source: string;
  let repo: string;
  let sandbox: string;
  let backupStderr: string;
  let backupCode: number;

  beforeAll(async () => {
    dir = await tempDir('tresor-hostile-');
    source = join(dir, 'keys');
    await mkdir(join(source, 'sub'), { recursive: true });
    await writeFile(join(source, 'sub', 'signing.key'), 'the real key\n');
    await writeFile(join(source, 'esc\u001b[31mred.key'), 'terminal escape in the name\n');
    await writeFile(join(source, 'new\nline.key'), 'newline in the name\n');
    await writeFile(Buffer.from(`${join(source, 'bad')}\xff\xfe.key`, 'latin1'), 'invalid UTF-8 name\n');
    await link(join(source, 'sub', 'signing.key'), join(source, 'hardlink.key'));
    await symlink('../../../../../../etc/passwd', join(source, 'up.link'));
    await symlink('/etc/shadow', join(source, 'abs.link'));
    await symlink('sub', join(source, 'dir.link'));
    await symlink('loop.link', join(source, 'loop.link'));
    execFileSync('mkfifo', [join(source, 'pipe')]);
    // A device file needs CAP_MKNOD (root); without it the FIFO stands for special files.
    try {
      execFileSync('mknod', [join(source, 'null'), 'c', '1', '3'], { stdio: 'ignore' });
    } catch {
      // not root
    }
    repo = await initRepo(dir, ['--kdf', 'scrypt']);
    sandbox = join(dir, 'sandbox');
    await mkdir(sandbox);
    const strict = await tresor(['--repo', repo, 'backup', source]);
    backupCode = strict.code;
    backupStderr = strict.stderr;
  });
  afterAll(() => removeDir(dir));

  it('an invalid UTF-8 name stops a backup (exit 8) unless --skip-unreadable, naming it escaped', () => {
    expect(backupCode).toBe(8);
    expect(backupStderr).toMatch(/cannot back up bad.*\.key: name is not valid UTF-8/);
  });

  it('with --skip-unreadable every special name and file is left out with a warning, the rest backed up', async () => {
    const result = await tresor(['--repo', repo, '--json', 'backup', source, '--skip-unreadable']);
    expect(result.code, result.stderr).toBe(0);
    const warnings = result.stderr.split('\n').filter((l) => l.startsWith('warning: '));
    expect(warnings).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^warning: bad.*\.key: skipped \(name is not valid UTF-8/),
        'warning: esc\\x1b[31mred.key: skipped (name contains control characters; it was left out)',
        'warning: new\\x0aline.key: skipped (name contains control characters; it was left out)',
        'warning: pipe: skipped (is a FIFO; only files, directories and symlinks are backed up)',
      ]),
    );
    // Nothing printed carries a raw control character (terminal escapes, newlines inside a name).
    expect(result.stderr.includes('\u001b')).toBe(false);
    const report = JSON.parse(result.stdout) as { files: number; symlinks: number; backupId: string };
    expect(report).toMatchObject({ files: 2, symlinks: 4 });
    const show = await tresor(['--repo', repo, 'show', report.backupId]);
    expect(show.stdout.includes('\u001b')).toBe(false);
  });

  it('restores symlinks as links (never followed), hard links as copies, and writes only inside the target', async () => {
    const target = join(sandbox, 'restored');
    const result = await tresor(['--repo', repo, 'restore', 'latest', '--target', target]);
    expect(result.code, result.stderr).toBe(0);
    expect(await readdir(sandbox)).toEqual(['restored']);
    expect((await readdir(target)).sort()).toEqual(['abs.link', 'dir.link', 'hardlink.key', 'loop.link', 'sub', 'up.link']);
    expect(await readlink(join(target, 'up.link'))).toBe('../../../../../../etc/passwd');
    expect(await readlink(join(target, 'abs.link'))).toBe('/etc/shadow');
    expect(await readlink(join(target, 'loop.link'))).toBe('loop.link');
    expect((await lstat(join(target, 'dir.link'))).isSymbolicLink()).toBe(true);
    expect(await readFile(join(target, 'hardlink.key'), 'utf8')).toBe('the real key\n');
    expect((await lstat(join(target, 'hardlink.key'))).nlink).toBe(1);
    expect(await readFile('/etc/passwd', 'utf8')).not.toContain('the real key');
  });
});
