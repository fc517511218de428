import { copyFile, mkdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { backupJson, makeKeyTree, removeDir, tempDir, tresor } from '../../apps/cli/src/e2e/support.js';

interface Finding {
  kind: string;
  location: string;
  key?: string;
  backupId?: string;
  problem: string;
}
interface Report {
  ok: boolean;
  backups: number;
  locations: string[];
  objects: number;
  bytesRead: number;
  findings: Finding[];
  repairs: { location: string; key: string; outcome: string; detail?: string }[];
}

/**
 * `tresor fsck` on deliberately broken repositories: every kind of disagreement between the catalog
 * and a storage location is found (exit 5, named), in the location where it is, and a clean
 * repository passes (exit 0). Two locations, so damage to one copy is told apart from the other.
 */
describe('tresor fsck', () => {
  let dir: string;
  let repo: string;
  let primary: string;
  let second: string;
  let full: string;
  let incremental: string;
  let pristine: Map<string, Buffer>;

  const fsck = async (...args: string[]) => {
    const result = await tresor(['--repo', repo, '--json', 'fsck', ...args], { TRESOR_PASSPHRASE: undefined });
    return { code: result.code, stderr: result.stderr, report: JSON.parse(result.stdout) as Report };
  };
  const objectFiles = () => [
    ...[primary, second].flatMap((root) => [
      join(root, 'archives', `${full}.tra`),
      join(root, 'archives', `${incremental}.tra`),
      join(root, 'manifests', `${full}.json`),
      join(root, 'manifests', `${incremental}.json`),
    ]),
  ];

  beforeAll(async () => {
    dir = await tempDir('tresor-fsck-');
    repo = join(dir, 'repo');
    primary = join(repo, 'objects');
    second = join(dir, 'second');
    const source = join(dir, 'keys');
    await makeKeyTree(source);
    const storage = [
      { name: 'primary', type: 'local', path: 'objects' },
      { name: 'second', type: 'local', path: second },
    ];
    const init = await tresor(['--repo', repo, 'init', '--kdf', 'scrypt', '--storage', JSON.stringify(storage)]);
    expect(init.code, init.stderr).toBe(0);
    full = (await backupJson(repo, source, ['--level', 'full'])).backupId;
    await writeFile(join(source, 'new.key'), 'a new key\n');
    incremental = (await backupJson(repo, source, ['--level', 'incremental'])).backupId;
    pristine = new Map();
    for (const file of objectFiles()) pristine.set(file, await readFile(file));
  });
  beforeEach(async () => {
    for (const [file, bytes] of pristine) await writeFile(file, bytes);
    for (const stray of ['archives/20990101T000000Z-0badf00d.tra', 'manifests/20990101T000000Z-0badf00d.json', 'keyrings', 'stray']) {
      await rm(join(primary, stray), { recursive: true, force: true });
      await rm(join(second, stray), { recursive: true, force: true });
    }
  });
  afterAll(() => removeDir(dir));

  it('passes a consistent repository, with and without --read-data, and needs no key', async () => {
    const quick = await fsck();
    expect(quick.code, quick.stderr).toBe(0);
    expect(quick.report).toMatchObject({ ok: true, backups: 2, locations: ['primary', 'second'], findings: [] });
    expect(quick.report.bytesRead).toBe(0);
    const deep = await fsck('--read-data');
    expect(deep.code, deep.stderr).toBe(0);
    expect(deep.report.bytesRead).toBeGreaterThan(0);
    const text = await tresor(['--repo', repo, 'fsck'], { TRESOR_PASSPHRASE: undefined });
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^2 backups, \d+ objects in 2 location\(s\): consistent$/m);
  });

  it('finds an orphan archive and manifest (an interrupted backup) in the location that holds them', async () => {
    await copyFile(join(primary, 'archives', `${full}.tra`), join(primary, 'archives', '20990101T000000Z-0badf00d.tra'));
    await writeFile(join(second, 'manifests', '20990101T000000Z-0badf00d.json'), '{}');
    const { code, report, stderr } = await fsck();
    expect(code).toBe(5);
    expect(stderr).toMatch(/^tresor: fsck found 2 problem\(s\) \(orphan\)/);
    expect(report.findings).toEqual([
      expect.objectContaining({ kind: 'orphan', location: 'primary', key: 'archives/20990101T000000Z-0badf00d.tra', backupId: '20990101T000000Z-0badf00d' }),
      expect.objectContaining({ kind: 'orphan', location: 'second', key: 'manifests/20990101T000000Z-0badf00d.json' }),
    ]);
  });

  it('fsck --repair deletes old orphans (and only them), a second fsck is clean, every backup still restores', { timeout: 180_000 }, async () => {
    await copyFile(join(primary, 'archives', `${full}.tra`), join(primary, 'archives', '20990101T000000Z-0badf00d.tra'));
    await writeFile(join(second, 'manifests', '20990101T000000Z-0badf00d.json'), '{}');
    await mkdir(join(second, 'keyrings', '20990101T000000Z-0badf00d'), { recursive: true });
    await writeFile(join(second, 'keyrings', '20990101T000000Z-0badf00d', '00000001.json'), '{}');
    await mkdir(join(primary, 'stray'));
    await writeFile(join(primary, 'stray', 'x.bin'), 'x');

    // The default safety age (24 h) keeps orphans that may belong to a backup still running.
    const young = await fsck('--repair');
    expect(young.code).toBe(5);
    expect(young.report.repairs.map((r) => [r.outcome, r.location, r.key])).toEqual([
      ['young', 'primary', 'archives/20990101T000000Z-0badf00d.tra'],
      ['young', 'second', 'keyrings/20990101T000000Z-0badf00d/00000001.json'],
      ['young', 'second', 'manifests/20990101T000000Z-0badf00d.json'],
    ]);
    expect(await readFile(join(primary, 'archives', '20990101T000000Z-0badf00d.tra'))).toBeTruthy();

    const text = await tresor(['--repo', repo, 'fsck', '--repair', '--older-than', '0s'], { TRESOR_PASSPHRASE: undefined });
    // The object Tresor never writes is reported, never deleted.
    expect(text.code).toBe(5);
    expect(text.stdout).toMatch(/^DELETED +primary: archives\/20990101T000000Z-0badf00d\.tra$/m);
    expect(text.stdout).toMatch(/^DELETED +second: manifests\/20990101T000000Z-0badf00d\.json$/m);
    expect(text.stdout).toMatch(/^DELETED +second: keyrings\/20990101T000000Z-0badf00d\/00000001\.json$/m);
    expect(text.stdout).toMatch(/^UNKNOWN +primary: stray\/x\.bin is not an object Tresor writes$/m);
    expect(await readFile(join(primary, 'stray', 'x.bin'), 'utf8')).toBe('x');
    await rm(join(primary, 'stray'), { recursive: true });

    const after = await fsck('--read-data');
    expect(after.code, after.stderr).toBe(0);
    expect(after.report.findings).toEqual([]);
    for (const id of [full, incremental]) {
      const restore = await tresor(['--repo', repo, 'restore', id, '--target', join(dir, `repaired-${id}`)]);
      expect(restore.code, restore.stderr).toBe(0);
    }
  });

  it('fsck --repair never deletes what a catalogued backup reads, even when the catalog lost its owner', { timeout: 180_000 }, async () => {
    const saved = join(dir, 'full-manifest-repair.json');
    await copyFile(join(primary, 'manifests', `${full}.json`), saved);
    try {
      await rm(join(primary, 'manifests', `${full}.json`));
      await rm(join(second, 'manifests', `${full}.json`));
      expect((await tresor(['--repo', repo, 'catalog', 'rebuild'])).code).toBe(0);
      const { code, report } = await fsck('--repair', '--older-than', '0s');
      expect(code).toBe(5);
      expect(report.repairs.map((r) => [r.outcome, r.location, r.key])).toEqual([
        ['referenced', 'primary', `archives/${full}.tra`],
        ['referenced', 'second', `archives/${full}.tra`],
      ]);
      expect(await readFile(join(primary, 'archives', `${full}.tra`))).toEqual(pristine.get(join(primary, 'archives', `${full}.tra`)));
    } finally {
      await copyFile(saved, join(primary, 'manifests', `${full}.json`));
      await copyFile(saved, join(second, 'manifests', `${full}.json`));
      expect((await tresor(['--repo', repo, 'catalog', 'rebuild'])).code).toBe(0);
    }
    expect((await fsck()).code).toBe(0);
  });

  it('finds an orphan keyring and an object under a key Tresor never writes', async () => {
    await mkdir(join(second, 'keyrings', '20990101T000000Z-0badf00d'), { recursive: true });
    await writeFile(join(second, 'keyrings', '20990101T000000Z-0badf00d', '00000001.json'), '{}');
    await mkdir(join(primary, 'stray'));
    await writeFile(join(primary, 'stray', 'x.bin'), 'x');
    const { code, report } = await fsck();
    expect(code).toBe(5);
    expect(report.findings.map((f) => [f.kind, f.location, f.key])).toEqual([
      ['unknown', 'primary', 'stray/x.bin'],
      ['orphan', 'second', 'keyrings/20990101T000000Z-0badf00d/00000001.json'],
    ]);
  });

  it('finds a catalogued backup whose archive one location lost', async () => {
    await rm(join(second, 'archives', `${incremental}.tra`));
    const { code, report } = await fsck();
    expect(code).toBe(5);
    expect(report.findings).toEqual([
      expect.objectContaining({ kind: 'missing', location: 'second', key: `archives/${incremental}.tra`, backupId: incremental }),
    ]);
  });

  it('finds a catalogued backup whose manifest is gone from every location', async () => {
    await rm(join(primary, 'manifests', `${full}.json`));
    await rm(join(second, 'manifests', `${full}.json`));
    const { code, report } = await fsck();
    expect(code).toBe(5);
    expect(report.findings.map((f) => [f.kind, f.location, f.key])).toEqual([
      ['missing', 'primary', `manifests/${full}.json`],
      ['missing', 'second', `manifests/${full}.json`],
    ]);
  });

  it('finds a truncated archive by its size, and a same-size corruption only with --read-data', async () => {
    const archive = join(primary, 'archives', `${full}.tra`);
    await truncate(archive, pristine.get(archive)!.length - 7);
    const truncated = await fsck();
    expect(truncated.code).toBe(5);
    expect(truncated.report.findings).toEqual([expect.objectContaining({ kind: 'mismatch', location: 'primary', key: `archives/${full}.tra` })]);

    const flipped = Buffer.from(pristine.get(archive)!);
    flipped[flipped.length >> 1]! ^= 0x40;
    await writeFile(archive, flipped);
    expect((await fsck()).code, 'sizes alone cannot see a flipped bit').toBe(0);
    const deep = await fsck('--read-data');
    expect(deep.code).toBe(5);
    expect(deep.report.findings).toEqual([
      expect.objectContaining({ kind: 'mismatch', location: 'primary', problem: expect.stringMatching(/SHA-256 differs/) }),
    ]);
  });

  it('finds a manifest that differs from the catalog, in the location where it differs', async () => {
    const manifest = join(second, 'manifests', `${incremental}.json`);
    await writeFile(manifest, Buffer.concat([pristine.get(manifest)!, Buffer.from(' ')]));
    const { code, report } = await fsck();
    expect(code).toBe(5);
    expect(report.findings).toContainEqual(
      expect.objectContaining({ kind: 'mismatch', location: 'second', key: `manifests/${incremental}.json` }),
    );
  });

  it('finds a backup that takes content from a backup the catalog has lost', async () => {
    // Rebuilding the catalog without the full backup's manifest: the incremental still refers to it.
    const saved = join(dir, 'full-manifest.json');
    await copyFile(join(primary, 'manifests', `${full}.json`), saved);
    await rm(join(primary, 'manifests', `${full}.json`));
    await rm(join(second, 'manifests', `${full}.json`));
    const rebuild = await tresor(['--repo', repo, 'catalog', 'rebuild']);
    try {
      expect(rebuild.code, rebuild.stderr).toBe(0);
      const { code, report } = await fsck();
      expect(code).toBe(5);
      const kinds = report.findings.map((f) => f.kind);
      expect(kinds).toContain('broken-chain');
      expect(report.findings.filter((f) => f.kind === 'orphan').map((f) => [f.location, f.key])).toEqual([
        ['primary', `archives/${full}.tra`],
        ['second', `archives/${full}.tra`],
      ]);
    } finally {
      await copyFile(saved, join(primary, 'manifests', `${full}.json`));
      await copyFile(saved, join(second, 'manifests', `${full}.json`));
      expect((await tresor(['--repo', repo, 'catalog', 'rebuild'])).code).toBe(0);
    }
    expect((await fsck()).code).toBe(0);
  });
});
