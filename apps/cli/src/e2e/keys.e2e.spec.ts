import { execFileSync, spawnSync } from 'node:child_process';
import { createDecipheriv, createHash, createHmac, generateKeyPairSync } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { hsmToken } from '../../../../test/support/infra.js';
import { makeKeyTree, removeDir, snapshotTree, tempDir, tresor } from './support.js';

const NO_PASS = { TRESOR_PASSPHRASE: undefined };

async function archiveHashes(repo: string): Promise<Record<string, string>> {
  const dir = join(repo, 'objects', 'archives');
  const out: Record<string, string> = {};
  for (const name of (await readdir(dir)).sort()) out[name] = createHash('sha256').update(await readFile(join(dir, name))).digest('hex');
  return out;
}

function ok(result: { code: number; stderr: string }): void {
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
}

// Each test runs a dozen CLI processes: on a shared 2-core machine that takes minutes, not seconds.
describe('tresor keys and export', { timeout: 300_000 }, () => {
  let dir: string;
  let source: string;
  let rsaIdentity: string;
  let rsaPublic: string;

  beforeAll(async () => {
    dir = await tempDir('tresor-keys-e2e-');
    source = join(dir, 'keys');
    await makeKeyTree(source);
    const pair = generateKeyPairSync('rsa', { modulusLength: 3072 });
    rsaPublic = join(dir, 'rsa.pub.pem');
    rsaIdentity = join(dir, 'rsa.pem');
    await writeFile(rsaPublic, pair.publicKey.export({ type: 'spki', format: 'pem' }));
    await writeFile(rsaIdentity, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  });
  afterAll(() => removeDir(dir));

  it('a backup wrapped for passphrase + RSA + HSM restores with any one of them alone', async () => {
    const hsm = hsmToken();
    onTestFinished(() => hsm.cleanup());
    const pin = { TRESOR_PKCS11_PIN: hsm.pin };
    const repo = join(dir, 'slots');
    const init = await tresor(
      ['init', '--repo', repo, '--with-passphrase', '--public-key', rsaPublic, '--pkcs11-module', hsm.module, '--pkcs11-token', hsm.tokenLabel, '--pkcs11-key-label', hsm.keyLabel, '--kdf', 'pbkdf2-sha256'],
      pin,
    );
    ok(init);
    expect(init.stdout).toContain('key slots: passphrase+public-key+pkcs11');
    ok(await tresor(['--repo', repo, 'backup', source], pin));

    const byPassphrase = join(dir, 'slots-pass');
    ok(await tresor(['--repo', repo, 'restore', 'latest', '--target', byPassphrase]));
    const byRsa = join(dir, 'slots-rsa');
    ok(await tresor(['--repo', repo, '--identity', rsaIdentity, 'restore', 'latest', '--target', byRsa], NO_PASS));
    const byHsm = join(dir, 'slots-hsm');
    ok(await tresor(['--repo', repo, 'restore', 'latest', '--target', byHsm], { ...NO_PASS, ...pin }));
    const expected = await snapshotTree(source);
    for (const target of [byPassphrase, byRsa, byHsm]) expect(await snapshotTree(target)).toEqual(expected);

    const none = await tresor(['--repo', repo, 'restore', 'latest', '--target', join(dir, 'slots-none')], NO_PASS);
    expect(none.code).toBe(2);
    const wrongPin = await tresor(['--repo', repo, 'restore', 'latest', '--target', join(dir, 'slots-wrong')], { ...NO_PASS, TRESOR_PKCS11_PIN: '999999' });
    expect(wrongPin.code).toBe(4);
    expect(wrongPin.stderr).not.toContain('999999');

    const check = await tresor(['--repo', repo, '--json', 'keys', 'check'], pin);
    ok(check);
    expect((JSON.parse(check.stdout) as { results: { ok: boolean }[] }).results).toHaveLength(3);
  });

  it('rotate + rewrap: old backups restore with only the new KEK, archive bytes unchanged, destroy refused until then', async () => {
    const repo = join(dir, 'rotate');
    ok(await tresor(['init', '--repo', repo, '--kdf', 'scrypt']));
    ok(await tresor(['--repo', repo, 'backup', source]));
    await writeFile(join(source, 'added.key'), 'added later');
    ok(await tresor(['--repo', repo, 'backup', source]));
    const before = await archiveHashes(repo);

    const newPass = { NEW_PASS: 'a brand new passphrase 2027' };
    const rotate = await tresor(['--repo', repo, 'keys', 'rotate', '--new-passphrase-env', 'NEW_PASS', '--kdf', 'scrypt', '--cryptoperiod-days', '365'], newPass);
    ok(rotate);
    expect(rotate.stdout).toMatch(/created KEK version 2/);
    ok(await tresor(['--repo', repo, 'keys', 'disable', '1']));
    const refused = await tresor(['--repo', repo, 'keys', 'destroy', '1']);
    expect(refused.code).toBe(6);
    expect(refused.stderr).toMatch(/KEK version 1 is still the only key of 2 backup\(s\): \S+, \S+; run `tresor keys rewrap --from-version 1`/);

    const rewrap = await tresor(['--repo', repo, '--json', 'keys', 'rewrap', '--from-version', '1'], { TRESOR_PASSPHRASE: newPass.NEW_PASS, ...newPass });
    // Rewrapping opens the old data keys with the old passphrase (the repository passphrase) and
    // wraps them with the new one (--new-passphrase-env): the new one alone cannot open them.
    expect(rewrap.code).toBe(4);
    const rewrapOld = await tresor(['--repo', repo, '--json', 'keys', 'rewrap', '--from-version', '1', '--new-passphrase-env', 'NEW_PASS'], newPass);
    ok(rewrapOld);
    expect((JSON.parse(rewrapOld.stdout) as { rewrapped: string[] }).rewrapped).toHaveLength(2);
    expect(await archiveHashes(repo)).toEqual(before);
    const destroy = await tresor(['--repo', repo, 'keys', 'destroy', '1']);
    expect(destroy.code).toBe(0);
    // A passphrase cannot be deleted by software: the operator is told so.
    expect(destroy.stderr).toMatch(/^tresor: warning: Tresor cannot delete these keys itself; .*: passphrase:[0-9a-f]{16}\n$/);

    const list = await tresor(['--repo', repo, '--json', 'list']);
    for (const backup of JSON.parse(list.stdout) as { id: string }[]) {
      const target = join(dir, `rotated-${backup.id}`);
      ok(await tresor(['--repo', repo, 'restore', backup.id, '--target', target], { TRESOR_PASSPHRASE: newPass.NEW_PASS }));
    }
    ok(await tresor(['--repo', repo, 'verify', '--all', '--deep'], { TRESOR_PASSPHRASE: newPass.NEW_PASS }));
    const versions = await tresor(['--repo', repo, '--json', 'keys', 'list']);
    expect((JSON.parse(versions.stdout) as { version: number; state: string }[]).map((v) => [v.version, v.state])).toEqual([
      [1, 'destroyed'],
      [2, 'active'],
    ]);
  });

  it('keys list shows age against the cryptoperiod; keys check warns within --warn-days (exit 0)', async () => {
    const repo = join(dir, 'cryptoperiod');
    ok(await tresor(['init', '--repo', repo, '--public-key', rsaPublic], NO_PASS));
    ok(await tresor(['--repo', repo, 'keys', 'rotate', '--public-key', rsaPublic, '--cryptoperiod-days', '10'], NO_PASS));
    const list = await tresor(['--repo', repo, '--json', 'keys', 'list'], NO_PASS);
    ok(list);
    expect((JSON.parse(list.stdout) as { version: number; ageDays: number; cryptoperiodDays: number; cryptoperiod: string }[]).map((v) => [v.version, v.ageDays, v.cryptoperiodDays, v.cryptoperiod])).toEqual([
      [1, 0, 365, 'ok'],
      [2, 0, 10, 'due'],
    ]);
    const check = await tresor(['--repo', repo, 'keys', 'check', '--warn-days', '30'], NO_PASS);
    expect(check.code).toBe(0);
    expect(check.stderr).toMatch(/^tresor: warning: KEK version 2 reaches the end of its cryptoperiod of 10 days in 9 day\(s\)/);
    ok(await tresor(['--repo', repo, 'keys', 'check', '--warn-days', '5'], NO_PASS));
  });

  it('split 5/3: 3 shares recover access when every other KEK is lost; 2 fail; a corrupted share is named', async () => {
    const repo = join(dir, 'split');
    ok(await tresor(['init', '--repo', repo, '--kdf', 'scrypt']));
    ok(await tresor(['--repo', repo, 'backup', source]));
    const shares = join(dir, 'shares');
    const custodians = ['carla', 'colin', 'cora', 'dora', 'emil'];
    const split = await tresor(['--repo', repo, 'keys', 'split', '--shares', '5', '--threshold', '3', '--out-dir', shares, ...custodians.flatMap((c) => ['--custodian', c])]);
    ok(split);
    expect((await readdir(shares)).sort()).toEqual(custodians.map((c) => `${c}.share.json`).sort());
    const share = (c: string) => ['--share', join(shares, `${c}.share.json`)];

    // The passphrase is forgotten: only shares are left.
    const two = await tresor(['--repo', repo, 'keys', 'recover', ...share('carla'), ...share('emil'), '--new-passphrase-env', 'NEW_PASS'], { ...NO_PASS, NEW_PASS: 'recovered passphrase 2027' });
    expect(two.code).toBe(2);
    expect(two.stderr.trim()).toBe('tresor: the recovery key needs 3 distinct shares; 2 given (carla, emil)');

    const text = await readFile(join(shares, 'colin.share.json'), 'utf8');
    const parsed = JSON.parse(text) as { share: string };
    const bytes = Buffer.from(parsed.share, 'base64');
    bytes[7]! ^= 0x10;
    await writeFile(join(dir, 'colin-bad.json'), JSON.stringify({ ...parsed, share: bytes.toString('base64') }));
    const bad = await tresor(['--repo', repo, 'keys', 'recover', ...share('carla'), '--share', join(dir, 'colin-bad.json'), ...share('dora'), '--new-passphrase-env', 'NEW_PASS'], { ...NO_PASS, NEW_PASS: 'recovered passphrase 2027' });
    expect(bad.code).toBe(5);
    expect(bad.stderr).toMatch(/share .*colin-bad\.json of custodian 'colin' is corrupted/);

    const recover = await tresor(['--repo', repo, 'keys', 'recover', ...share('cora'), ...share('dora'), ...share('emil'), '--new-passphrase-env', 'NEW_PASS'], { ...NO_PASS, NEW_PASS: 'recovered passphrase 2027' });
    ok(recover);
    const target = join(dir, 'recovered');
    ok(await tresor(['--repo', repo, 'restore', 'latest', '--target', target], { TRESOR_PASSPHRASE: 'recovered passphrase 2027' }));
    expect(await snapshotTree(target)).toEqual(await snapshotTree(source));

    const chain = await readFile(join(repo, 'audit', 'audit.jsonl'), 'utf8');
    const audit = chain.trim().split('\n').map((l) => JSON.parse(l) as { action: string; outcome: string; details: { phase?: string } });
    const outcomes = audit.filter((a) => a.action.startsWith('keys.') && a.details.phase === 'finished');
    expect(outcomes.map((a) => `${a.action}:${a.outcome}`)).toEqual(['keys.split:success', 'keys.recover:failure', 'keys.recover:failure', 'keys.recover:success']);
    expect(chain).not.toContain(parsed.share);
    ok(await tresor(['--repo', repo, 'audit', 'verify']));
  });

  it('exports round-trip through the real age, tar and unzip; fernet opens with an independent implementation', async () => {
    const repo = join(dir, 'export');
    ok(await tresor(['init', '--repo', repo, '--kdf', 'scrypt']));
    ok(await tresor(['--repo', repo, 'backup', source]));
    const expected = await snapshotTree(source);
    const contentOnly = (tree: Map<string, { type: string; sha256?: string; target?: string; mode: number }>) =>
      [...tree].map(([p, e]) => [p, e.type, e.sha256 ?? e.target ?? '', e.type === 'symlink' ? 0 : e.mode]);

    execFileSync('age-keygen', ['-o', join(dir, 'age.key')], { stdio: 'ignore' });
    const recipient = execFileSync('age-keygen', ['-y', join(dir, 'age.key')]).toString().trim();
    const aged = join(dir, 'export.tar.gz.age');
    ok(await tresor(['--repo', repo, 'export', 'latest', '--format', 'tar.gz', '--encrypt', 'age', '--recipient', recipient, '--output', aged]));
    const tgz = join(dir, 'export.tar.gz');
    execFileSync('age', ['--decrypt', '-i', join(dir, 'age.key'), '-o', tgz, aged]);
    const untarred = join(dir, 'untarred');
    await mkdir(untarred);
    execFileSync('tar', ['-xzf', tgz, '-C', untarred]);
    expect(contentOnly(await snapshotTree(untarred))).toEqual(contentOnly(expected));

    const zip = join(dir, 'export.zip');
    ok(await tresor(['--repo', repo, 'export', 'latest', '--format', 'zip', '--output', zip]));
    const unzipped = join(dir, 'unzipped');
    execFileSync('unzip', ['-q', zip, '-d', unzipped]);
    const files = (m: Map<string, { type: string; sha256?: string }>) => [...m].filter(([, e]) => e.type === 'file').map(([p, e]) => [p, e.sha256]);
    expect(files(await snapshotTree(unzipped))).toEqual(files(expected));
    const again = await tresor(['--repo', repo, 'export', 'latest', '--format', 'zip', '--output', zip]);
    expect(again.code).toBe(6);

    const key = Buffer.alloc(32, 9).toString('base64url') + '=';
    const fernet = join(dir, 'export.fernet');
    ok(await tresor(['--repo', repo, 'export', 'latest', '--format', 'fernet', '--fernet-key-env', 'FERNET_KEY', '--output', fernet], { FERNET_KEY: key }));
    // Independent Fernet decoder written from the spec (test oracle).
    const token = Buffer.from((await readFile(fernet, 'utf8')).trim(), 'base64url');
    const k = Buffer.from(key, 'base64url');
    expect(token[0]).toBe(0x80);
    expect(createHmac('sha256', k.subarray(0, 16)).update(token.subarray(0, -32)).digest().equals(token.subarray(-32))).toBe(true);
    const d = createDecipheriv('aes-128-cbc', k.subarray(16), token.subarray(9, 25));
    const bundle = JSON.parse(Buffer.concat([d.update(token.subarray(25, -32)), d.final()]).toString()) as { files: { path: string; content: string }[] };
    const bundled = bundle.files.map((f) => [f.path, createHash('sha256').update(Buffer.from(f.content, 'base64')).digest('hex')]);
    expect(bundled.sort()).toEqual(files(expected).sort());

    // Python's cryptography.fernet, the reader the Done-when names, where this host has it (CI's
    // image does); the from-spec oracle above runs everywhere.
    if (spawnSync('python3', ['-c', 'import cryptography.fernet']).status === 0) {
      const script = 'import sys,json;from cryptography.fernet import Fernet;print(json.dumps(sorted(f["path"] for f in json.loads(Fernet(sys.argv[1].encode()).decrypt(open(sys.argv[2],"rb").read().strip()))["files"])))';
      const paths = JSON.parse(execFileSync('python3', ['-c', script, key, fernet]).toString()) as string[];
      expect(paths).toEqual(bundle.files.map((f) => f.path).sort());
    }
  });
});
