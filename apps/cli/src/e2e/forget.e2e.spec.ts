import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { HeadObjectCommand, PutObjectRetentionCommand } from '@aws-sdk/client-s3';
import { describe, expect, it, onTestFinished } from 'vitest';
import { s3Bucket } from '../../../../test/support/infra.js';
import { backupJson, initRepo, makeKeyTree, removeDir, snapshotTree, tempDir, tresor } from './support.js';

interface ForgetJson {
  dryRun: boolean;
  backups: { id: string; action: 'keep' | 'forget' | 'deferred'; reasons: string[]; deferredUntil?: string }[];
  removed: string[];
  leftovers: { backupId: string; key: string; reason: string }[];
}

async function scratch(): Promise<string> {
  const dir = await tempDir();
  onTestFinished(() => removeDir(dir));
  return dir;
}

/** Every file under `dir`, relative, sorted. */
async function files(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name))).sort();
}

const actions = (result: ForgetJson) => Object.fromEntries(result.backups.map((b) => [b.id, b.action]));

describe('tresor forget', () => {
  it('dry-run changes nothing; the real run deletes exactly what it listed, and what remains restores', async () => {
    const dir = await scratch();
    const repo = await initRepo(dir, ['--kdf', 'scrypt']);
    const source = join(dir, 'keys');
    await makeKeyTree(source);
    const states = [await snapshotTree(source)];
    const first = await backupJson(repo, source);
    await writeFile(join(source, 'tenants/acme/payments/tls.key'), 'rotated once\n');
    states.push(await snapshotTree(source));
    const second = await backupJson(repo, source, ['--tag', 'release']);
    await writeFile(join(source, 'tenants/acme/payments/tls.key'), 'rotated twice\n');
    states.push(await snapshotTree(source));
    const third = await backupJson(repo, source);
    const [a, b, c] = [first.backupId, second.backupId, third.backupId];

    const listBefore = (await tresor(['--repo', repo, '--json', 'list'])).stdout;
    const objectsBefore = await files(join(repo, 'objects'));

    const dry = await tresor(['--repo', repo, 'forget', '--dry-run', '--keep-last', '1']);
    expect(dry.stderr).toBe('');
    expect(dry.code).toBe(0);
    // The full backup holds the unchanged files the newest one reads; the middle one holds nothing it reads.
    expect(dry.stdout).toMatch(new RegExp(`keep +${a} .*parent of ${c}`));
    expect(dry.stdout).toMatch(new RegExp(`would forget +${b} .*no rule keeps it`));
    expect(dry.stdout).toMatch(new RegExp(`keep +${c} .*keep-last 1`));
    expect(dry.stdout).toMatch(/dry run: nothing changed; 1 of 3 backup\(s\) would be forgotten/);

    const dryTagged = JSON.parse((await tresor(['--repo', repo, '--json', 'forget', '--dry-run', '--keep-last', '1', '--keep-tag', 'release'])).stdout) as ForgetJson;
    expect(actions(dryTagged)).toEqual({ [a]: 'keep', [b]: 'keep', [c]: 'keep' });
    expect(dryTagged.backups.find((x) => x.id === b)!.reasons).toEqual(['keep-tag release']);

    expect((await tresor(['--repo', repo, '--json', 'list'])).stdout).toBe(listBefore);
    expect(await files(join(repo, 'objects'))).toEqual(objectsBefore);

    const real = await tresor(['--repo', repo, '--json', 'forget', '--keep-last', '1']);
    expect(real.stderr).toBe('');
    expect(real.code).toBe(0);
    const result = JSON.parse(real.stdout) as ForgetJson;
    expect(result.dryRun).toBe(false);
    expect(actions(result)).toEqual({ [a]: 'keep', [b]: 'forget', [c]: 'keep' });
    expect(result.removed).toEqual([b]);
    expect(result.leftovers).toEqual([]);

    const listed = JSON.parse((await tresor(['--repo', repo, '--json', 'list'])).stdout) as { id: string }[];
    expect(listed.map((x) => x.id)).toEqual([a, c]);
    expect(await files(join(repo, 'objects'))).toEqual(
      objectsBefore.filter((key) => key !== `archives/${b}.tra` && key !== `manifests/${b}.json`),
    );

    const verify = await tresor(['--repo', repo, 'verify', '--all', '--deep']);
    expect(verify.stderr).toBe('');
    expect(verify.code).toBe(0);
    for (const [id, state] of [[a, states[0]!], [c, states[2]!]] as const) {
      const target = join(dir, `restored-${id}`);
      const restored = await tresor(['--repo', repo, 'restore', id, '--target', target]);
      expect(restored.stderr).toBe('');
      expect(restored.code).toBe(0);
      expect(await snapshotTree(target)).toEqual(state);
    }

    // Running it again finds nothing more to forget.
    const again = JSON.parse((await tresor(['--repo', repo, '--json', 'forget', '--keep-last', '1'])).stdout) as ForgetJson;
    expect(again.removed).toEqual([]);
  }, 300_000);

  it('takes the policy from tresor.json per source, and refuses bad input with exit 2 changing nothing', async () => {
    const dir = await scratch();
    const repo = await initRepo(dir, ['--kdf', 'scrypt']);
    const source = join(dir, 'keys');
    await makeKeyTree(source);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await backupJson(repo, source, ['--level', 'full'])).backupId);
    // A key rotation gives every backup a keyring object of its own, which forget must delete too.
    const newPass = { NEW_PASS: 'a brand new passphrase 2027' };
    expect((await tresor(['--repo', repo, 'keys', 'rotate', '--new-passphrase-env', 'NEW_PASS', '--kdf', 'scrypt'], newPass)).code).toBe(0);
    expect((await tresor(['--repo', repo, 'keys', 'rewrap', '--new-passphrase-env', 'NEW_PASS'], newPass)).code).toBe(0);
    const objectsBefore = await files(join(repo, 'objects'));
    expect(objectsBefore.filter((key) => key.startsWith(`keyrings/${ids[0]}/`))).toHaveLength(1);

    const bad: [string[], RegExp][] = [
      [[], /no retention policy: give --keep-last, --keep-daily, … or set "retention" in .*tresor\.json/],
      [['--keep-daily', '-1'], /--keep-daily '-1' is not a whole number/],
      [['--keep-within', '30 days'], /keep-within '30 days' is not a duration like 30d/],
      [['--keep-daily', '7', '--time-zone', 'Mars/Olympus'], /time zone 'Mars\/Olympus' is not an IANA time zone name/],
      [['--keep-last', '0'], /has no rule, so nothing would be kept/],
    ];
    for (const [args, message] of bad) {
      const run = await tresor(['--repo', repo, 'forget', ...args]);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr).toMatch(message);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
    }
    const unknown = await tresor(['--repo', repo, 'forget', '--source', join(dir, 'nope'), '--keep-last', '1']);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toMatch(/no backups of source .*nope/);
    expect(await files(join(repo, 'objects'))).toEqual(objectsBefore);

    const configFile = join(repo, 'tresor.json');
    const config = JSON.parse(await readFile(configFile, 'utf8')) as Record<string, unknown>;
    await writeFile(configFile, JSON.stringify({ ...config, retention: { default: { keepLast: 3 }, sources: { [source]: { keepLast: 2 } } } }));
    const configured = JSON.parse((await tresor(['--repo', repo, '--json', 'forget', '--source', source])).stdout) as ForgetJson;
    expect(configured.removed).toEqual([ids[0]]);
    expect(await files(join(repo, 'objects'))).toEqual(objectsBefore.filter((key) => !key.includes(ids[0]!)));
    const verify = await tresor(['--repo', repo, 'verify', '--all', '--deep'], { TRESOR_PASSPHRASE: newPass.NEW_PASS });
    expect(verify.stderr).toBe('');
    expect(verify.code).toBe(0);

    await writeFile(configFile, JSON.stringify({ ...config, retention: { default: { keepDialy: 3 } } }));
    const typo = await tresor(['--repo', repo, 'forget']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/tresor\.json: retention\.default: .*keepDialy/);
  }, 300_000);

  it('defers backups whose objects an S3 Object Lock bucket still retains, and forgets the others everywhere', async () => {
    const dir = await scratch();
    const s3 = await s3Bucket({ objectLock: true });
    onTestFinished(() => s3.cleanup());
    const credentials = s3.config.credentials as { accessKeyId: string; secretAccessKey: string };
    const env = { E2E_S3_KEY_ID: credentials.accessKeyId, E2E_S3_SECRET: credentials.secretAccessKey };
    const storage = [
      { name: 'primary', type: 'local', path: 'objects' },
      {
        name: 'worm',
        type: 's3',
        bucket: s3.bucket,
        endpoint: s3.config.endpoint,
        forcePathStyle: true,
        credentials: { accessKeyId: { env: 'E2E_S3_KEY_ID' }, secretAccessKey: { env: 'E2E_S3_SECRET' } },
      },
    ];
    const repo = join(dir, 'repo');
    const init = await tresor(['--repo', repo, 'init', '--kdf', 'scrypt', '--storage', JSON.stringify(storage)], env);
    expect(init.stderr).toBe('');
    const source = join(dir, 'keys');
    await makeKeyTree(source);
    const state = await snapshotTree(source);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await backupJson(repo, source, ['--level', 'full'], env)).backupId);
    const [locked, unlocked, newest] = ids as [string, string, string];

    // An operator (or a bucket default) puts the oldest backup's archive under retention for a day.
    const until = new Date(Math.ceil((Date.now() + 86_400_000) / 1000) * 1000);
    await s3.client.send(
      new PutObjectRetentionCommand({
        Bucket: s3.bucket,
        Key: `archives/${locked}.tra`,
        Retention: { Mode: 'GOVERNANCE', RetainUntilDate: until },
      }),
    );

    const dry = JSON.parse((await tresor(['--repo', repo, '--json', 'forget', '--dry-run', '--keep-last', '1'], env)).stdout) as ForgetJson;
    expect(actions(dry)).toEqual({ [locked]: 'deferred', [unlocked]: 'forget', [newest]: 'keep' });
    const deferred = dry.backups.find((x) => x.id === locked)!;
    expect(deferred.deferredUntil).toBe(until.toISOString());
    expect(deferred.reasons).toContain(`deferred until ${until.toISOString()} (WORM lock)`);

    const real = await tresor(['--repo', repo, '--json', 'forget', '--keep-last', '1'], env);
    expect(real.stderr).toBe('');
    expect(real.code).toBe(0);
    const result = JSON.parse(real.stdout) as ForgetJson;
    expect(actions(result)).toEqual({ [locked]: 'deferred', [unlocked]: 'forget', [newest]: 'keep' });
    expect(result.removed).toEqual([unlocked]);

    const head = (key: string) =>
      s3.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: key })).then(() => true, () => false);
    for (const key of [`archives/${unlocked}.tra`, `manifests/${unlocked}.json`]) {
      expect(await head(key), key).toBe(false);
      expect((await files(join(repo, 'objects'))).includes(key), key).toBe(false);
    }
    for (const key of [`archives/${locked}.tra`, `manifests/${locked}.json`]) expect(await head(key), key).toBe(true);

    const listed = JSON.parse((await tresor(['--repo', repo, '--json', 'list'], env)).stdout) as { id: string }[];
    expect(listed.map((x) => x.id)).toEqual([locked, newest]);
    const target = join(dir, 'restored');
    const restored = await tresor(['--repo', repo, 'restore', locked, '--target', target], env);
    expect(restored.stderr).toBe('');
    expect(await snapshotTree(target)).toEqual(state);
  }, 300_000);
});
