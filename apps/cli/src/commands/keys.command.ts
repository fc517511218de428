import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { ExitCode, TresorError, UsageError, WrongKeyError } from '@tresor/errors';
import {
  buildSlot,
  checkKekCryptoperiods,
  cryptoperiodStatus,
  cryptoperiodWarnings,
  currentKekVersion,
  DEFAULT_CRYPTOPERIOD_WARN_DAYS,
  decodeShareFile,
  encodeShareFile,
  KeyService,
  publicSlot,
  recoverRecoveryKey,
  splitRecoveryKey,
} from '@tresor/repository';
import type { KekVersion, Repository, ShareFile, Slot, SlotSpec } from '@tresor/repository';
import { audited as auditedOperation } from '../audit-trail.js';
import { optionsOf, withRepository } from '../context.js';
import type { GlobalOptions } from '../context.js';
import { formatTable, printJson } from '../format.js';
import { parseInteger } from './init.command.js';
import { addSlotOptions, nonPassphraseSlots, parseKdf } from './key-slot-options.js';
import type { SlotOptions } from './key-slot-options.js';
import { collect } from './options.js';

/** Runs a key operation on the repository under the repository's audit log (started, then its outcome). */
async function audited<T>(options: GlobalOptions, action: string, details: Record<string, unknown>, work: (repo: Repository, keys: KeyService) => Promise<T>): Promise<T> {
  return auditedOperation(options, action, undefined, details, () =>
    withRepository(options, async (repo) => {
      const keys = KeyService.of(repo);
      try {
        return await work(repo, keys);
      } finally {
        await keys.close();
      }
    }),
  );
}

interface RotateOptions extends SlotOptions {
  newPassphraseEnv?: string;
  dropRecovery?: boolean;
  cryptoperiodDays?: string;
}

/** Slots for a new version: what the options name, plus the current recovery slot unless dropped. */
async function newVersionSlots(options: RotateOptions, current: KekVersion | undefined): Promise<Slot[]> {
  const specs: SlotSpec[] = [];
  if (options.newPassphraseEnv) {
    const passphrase = envSecret('--new-passphrase-env', options.newPassphraseEnv);
    if (passphrase.length < 12) throw new UsageError('the new passphrase is too short: use at least 12 characters');
    specs.push({ type: 'passphrase', passphrase, kdf: parseKdf(options.kdf) });
  }
  specs.push(...(await nonPassphraseSlots(options)));
  const slots: Slot[] = [];
  for (const spec of specs) slots.push(await buildSlot(spec));
  const recovery = current?.slots.find((s) => s.type === 'x25519' && s.recovery);
  if (recovery && !options.dropRecovery && !slots.some((s) => s.kekId === recovery.kekId)) slots.push(recovery);
  if (slots.length === (recovery && !options.dropRecovery ? 1 : 0))
    throw new UsageError('name the new key slots: --new-passphrase-env VAR, --public-key FILE, --pkcs11-…, --aws-kms-key ARN');
  return slots;
}

function envSecret(option: string, name: string): string {
  const value = process.env[name];
  if (!value) throw new UsageError(`${option} ${name}: that environment variable is not set or empty`);
  return value;
}

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('key-encryption keys: versions, rotation, rewrap, recovery key, checks');

  keys
    .command('list')
    .description('KEK versions, their slots, state, age and cryptoperiod')
    .option('--warn-days <n>', `report a version as due this many days before its cryptoperiod ends (default ${DEFAULT_CRYPTOPERIOD_WARN_DAYS})`)
    .action(async (_opts: object, command: Command) => {
      const options = optionsOf<{ warnDays?: string }>(command);
      const warnDays = options.warnDays === undefined ? undefined : parseInteger(options.warnDays);
      const versions = await withRepository(options, (repo) => KeyService.of(repo).listVersions());
      const now = new Date();
      const rows = versions.map((v) => ({ ...v, period: cryptoperiodStatus(v, now, warnDays) }));
      if (options.json)
        return printJson(
          rows.map(({ version, state, createdAt, period, slots }) => ({
            version,
            state,
            createdAt,
            ageDays: period.ageDays,
            cryptoperiodDays: period.cryptoperiodDays,
            rotateBy: period.rotateBy,
            daysLeft: period.daysLeft,
            cryptoperiod: period.status,
            overdue: period.status === 'overdue',
            slots: slots.map(publicSlot),
          })),
        );
      process.stdout.write(
        formatTable(
          ['VERSION', 'STATE', 'CREATED', 'AGE', 'CRYPTOPERIOD', 'ROTATE BY', 'SLOTS'],
          rows.map((r) => [
            String(r.version),
            r.state,
            r.createdAt,
            `${r.period.ageDays}d`,
            `${r.period.cryptoperiodDays}d${r.period.defaulted ? ' (default)' : ''}`,
            `${r.period.rotateBy}${r.period.status === 'overdue' ? ' OVERDUE' : r.period.status === 'due' ? ' DUE' : ''}`,
            r.slots.map((s) => (s.type === 'x25519' && s.recovery ? `recovery(${s.recovery.threshold}/${s.recovery.shares.length})` : s.type)).join(', '),
          ]),
        ) + '\n',
      );
      for (const line of cryptoperiodWarnings(rows.map((r) => r.period))) process.stderr.write(`tresor: warning: ${line}\n`);
    });

  addSlotOptions(
    keys
      .command('rotate')
      .description('create a new KEK version (new backups are wrapped for it); then `keys rewrap` the old backups')
      .option('--new-passphrase-env <var>', 'a passphrase slot with the passphrase in this variable')
      .option('--drop-recovery', 'do not carry the recovery key slot over to the new version')
      .option('--cryptoperiod-days <n>', 'rotate this version again after N days (warned by `keys list` and `keys check`)'),
  ).action(async (_opts: RotateOptions, command: Command) => {
    const options = optionsOf<RotateOptions>(command);
    const cryptoperiod = options.cryptoperiodDays === undefined ? undefined : parseInteger(options.cryptoperiodDays);
    const version = await audited(options, 'keys.rotate', {}, async (repo, service) => {
      const current = await currentKekVersion(repo).catch(() => undefined);
      return service.rotate(await newVersionSlots(options, current), cryptoperiod ?? current?.cryptoperiodDays);
    });
    if (options.json) printJson({ version: version.version, slots: version.slots.map((s) => ({ type: s.type, kekId: s.kekId })) });
    else process.stdout.write(`created KEK version ${version.version} (${version.slots.map((s) => s.type).join(', ')}); run \`tresor keys rewrap\` to move existing backups to it\n`);
  });

  keys
    .command('rewrap')
    .description('rewrap the data keys of existing backups for the current KEK version (archives are not rewritten)')
    .option('--from-version <n>', 'only backups opened today by this version')
    .option('--new-passphrase-env <var>', "the current version's passphrase, when it differs from the one that opens the old backups")
    .action(async (_opts: { fromVersion?: string }, command: Command) => {
      const options = optionsOf<{ fromVersion?: string; newPassphraseEnv?: string }>(command);
      const fromVersion = options.fromVersion === undefined ? undefined : parseInteger(options.fromVersion);
      const newPassphrase = options.newPassphraseEnv ? envSecret('--new-passphrase-env', options.newPassphraseEnv) : undefined;
      const report = await audited(options, 'keys.rewrap', { fromVersion }, (_repo, service) => {
        if (newPassphrase) service.addPassphrase(newPassphrase);
        return service.rewrap({ fromVersion });
      });
      if (options.json) printJson(report);
      else process.stdout.write(`rewrapped ${report.rewrapped.length} backup(s) for KEK version ${report.toVersion}; ${report.skipped.length} already current or not selected\n`);
    });

  for (const [name, description] of [
    ['disable', 'stop wrapping new backups for a KEK version (it still opens old ones)'],
    ['destroy', 'destroy a disabled KEK version (refused while a backup needs it; HSM keys are deleted on the token)'],
  ] as const) {
    keys
      .command(name)
      .description(description)
      .argument('<version>', 'KEK version number')
      .action(async (versionArg: string, _opts: object, command: Command) => {
        const options = optionsOf<object>(command);
        const version = parseInteger(versionArg);
        const result = await audited<{ destroyedKeys: string[]; notDestroyable: string[] } | undefined>(options, `keys.${name}`, { version }, async (_repo, service) => {
          if (name === 'disable') {
            await service.disable(version);
            return undefined;
          }
          return service.destroy(version);
        });
        if (options.json) printJson({ version, ...(result ?? {}) });
        else if (name === 'disable') process.stdout.write(`KEK version ${version} disabled\n`);
        else {
          const r = result as { destroyedKeys: string[]; notDestroyable: string[] };
          process.stdout.write(`KEK version ${version} destroyed${r.destroyedKeys.length ? `; deleted on the HSM: ${r.destroyedKeys.join(', ')}` : ''}\n`);
          if (r.notDestroyable.length)
            process.stderr.write(`tresor: warning: Tresor cannot delete these keys itself; destroy them where they live (KMS key deletion, private key files, passphrase records): ${r.notDestroyable.join(', ')}\n`);
        }
      });
  }

  keys
    .command('check')
    .description('wrap and unwrap a canary data key with every slot of every active KEK version; warn about cryptoperiods')
    .option('--warn-days <n>', `warn this many days before a KEK version's cryptoperiod ends (default ${DEFAULT_CRYPTOPERIOD_WARN_DAYS})`)
    .action(async (_opts: object, command: Command) => {
      const options = optionsOf<{ warnDays?: string }>(command);
      const warnDays = options.warnDays === undefined ? undefined : parseInteger(options.warnDays);
      const { results, periods } = await audited(options, 'keys.check', {}, async (repo, service) => ({
        results: await service.check(),
        periods: await checkKekCryptoperiods(repo, { warnDays }),
      }));
      const failed = results.filter((r) => !r.ok);
      const active = periods.filter((p) => p.status !== 'inactive');
      const overdue = active.filter((p) => p.status === 'overdue');
      if (options.json) printJson({ ok: failed.length === 0 && overdue.length === 0, results, cryptoperiods: active });
      else for (const r of results) process.stdout.write(`${r.ok ? 'ok    ' : 'FAILED'}  ${r.tenant ? `tenant ${r.tenant}` : `v${r.version}`}  ${r.type}  ${r.kekId}${r.problem ? `: ${r.problem}` : ''}\n`);
      for (const line of cryptoperiodWarnings(active)) process.stderr.write(`tresor: warning: ${line}\n`);
      if (failed.length > 0) throw new WrongKeyError(`${failed.length} of ${results.length} key slots failed the canary check; first: ${failed[0]!.kekId}: ${failed[0]!.problem}`);
      // Past the cryptoperiod is a failed health check (exit 1); within the warning window only warns (exit 0).
      if (overdue.length > 0) throw new TresorError(`${overdue.length} KEK version(s) past their cryptoperiod: ${overdue.map((p) => p.version).join(', ')}`, 'CRYPTOPERIOD_EXCEEDED', ExitCode.Failure);
    });

  keys
    .command('split')
    .description('create the recovery key, split it M-of-N into one share file per custodian, and rewrap every backup for it')
    .requiredOption('--shares <n>', 'number of shares (N)')
    .requiredOption('--threshold <m>', 'shares needed to recover (M)')
    .requiredOption('--custodian <name>', 'custodian of one share (repeat N times)', collect, [])
    .requiredOption('--out-dir <dir>', 'directory for the share files (one per custodian; hand each out, then delete)')
    .option('--recipient <name=age1…>', "encrypt a custodian's share to their age recipient (repeatable)", collect, [])
    .action(async (_opts: object, command: Command) => {
      const options = optionsOf<{ shares: string; threshold: string; custodian: string[]; outDir: string; recipient: string[] }>(command);
      const recipients = new Map<string, string>();
      for (const r of options.recipient) {
        const at = r.indexOf('=');
        if (at <= 0) throw new UsageError(`--recipient '${r}' must be NAME=age1…`);
        recipients.set(r.slice(0, at), r.slice(at + 1));
      }
      for (const name of recipients.keys()) if (!options.custodian.includes(name)) throw new UsageError(`--recipient names '${name}', who is not a --custodian`);
      const details = { shares: Number(options.shares), threshold: Number(options.threshold), custodians: options.custodian, encryptedFor: [...recipients.keys()] };
      const written = await audited(options, 'keys.split', details, async (repo, service) => {
        const { slot, files } = await splitRecoveryKey({ repositoryId: repo.descriptor.repositoryId, shares: parseInteger(options.shares), threshold: parseInteger(options.threshold), custodians: options.custodian });
        const encoded = await Promise.all(files.map((f) => encodeShareFile(f, recipients.get(f.custodian))));
        await mkdir(options.outDir, { recursive: true, mode: 0o700 });
        const paths: string[] = [];
        for (const [i, file] of files.entries()) {
          const path = join(options.outDir, `${file.custodian}.share${recipients.has(file.custodian) ? '.age' : '.json'}`);
          await writeFile(path, encoded[i]!, { mode: 0o600, flag: 'wx' });
          paths.push(path);
        }
        const current = await currentKekVersion(repo);
        const kept = current.slots.filter((s) => !(s.type === 'x25519' && s.recovery));
        const version = await service.rotate([...kept, slot], current.cryptoperiodDays);
        const report = await service.rewrap();
        return { paths, version: version.version, recoveryKekId: slot.kekId, rewrapped: report.rewrapped.length };
      });
      if (options.json) printJson(written);
      else {
        process.stdout.write(`recovery key ${written.recoveryKekId}: ${options.threshold} of ${options.shares} shares recover it; KEK version ${written.version}; ${written.rewrapped} backup(s) rewrapped\n`);
        for (const p of written.paths) process.stdout.write(`  ${p}\n`);
        process.stdout.write('hand each file to its custodian over a separate channel, then delete it here\n');
      }
    });

  addSlotOptions(
    keys
      .command('recover')
      .description('combine M shares of the recovery key and re-establish access with new key slots (all other KEKs lost)')
      .requiredOption('--share <file>', 'share file of one custodian (repeat M times)', collect, [])
      .option('--age-identity <file>', 'age identity file that opens age-encrypted shares (repeatable)', collect, [])
      .option('--new-passphrase-env <var>', 'a passphrase slot with the passphrase in this variable'),
  ).action(async (_opts: object, command: Command) => {
    const options = optionsOf<RotateOptions & { share: string[]; ageIdentity: string[] }>(command);
    const identities: string[] = [];
    for (const file of options.ageIdentity) {
      const text = await readFile(file, 'utf8');
      identities.push(...text.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('AGE-SECRET-KEY-')));
    }
    const shares: { name: string; file: ShareFile }[] = [];
    for (const file of options.share) {
      const bytes = await readFile(file).catch((err: NodeJS.ErrnoException) => {
        throw new UsageError(`cannot read share ${file}: ${err.code ?? err.message}`);
      });
      shares.push({ name: file, file: await decodeShareFile(bytes, file, identities) });
    }
    const details = { custodians: shares.map((s) => s.file.custodian) };
    const result = await audited(options, 'keys.recover', details, async (repo, service) => {
      const recovered = await recoverRecoveryKey(shares, await service.listVersions(), repo.descriptor.repositoryId);
      service.addUnwrapper(recovered);
      if (options.newPassphraseEnv) service.addPassphrase(envSecret('--new-passphrase-env', options.newPassphraseEnv));
      const versions = await service.listVersions();
      const recoverySlot = versions.flatMap((v) => v.slots).find((s) => s.kekId === recovered.kekId)!;
      const slots = await newVersionSlots({ ...options, dropRecovery: true }, undefined).catch((err: unknown) => {
        if (err instanceof UsageError && /name the new key slots/.test(err.message)) throw new UsageError('name the new key slots that replace the lost ones: --new-passphrase-env VAR, --public-key FILE, --pkcs11-…, --aws-kms-key ARN');
        throw err;
      });
      const version = await service.rotate([...slots, recoverySlot]);
      const report = await service.rewrap();
      return { version: version.version, rewrapped: report.rewrapped.length, recoveryKekId: recovered.kekId };
    });
    if (options.json) printJson(result);
    else process.stdout.write(`recovered ${result.recoveryKekId}; KEK version ${result.version} holds the new slots; ${result.rewrapped} backup(s) rewrapped for it\n`);
  });
}
