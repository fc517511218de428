import { createPublicKey } from 'node:crypto';
import type { Command } from 'commander';
import { parseCodec, validateLevel, CODECS } from '@tresor/archive';
import { UsageError } from '@tresor/errors';
import { initRepository, RepositoryAuditLog } from '@tresor/repository';
import type { InitKek, SlotSpec } from '@tresor/repository';
import { loadConfigFile } from '../config-file.js';
import { optionsOf, readPassphrase, repoDir } from '../context.js';
import { askSecret } from '../prompt.js';
import { printJson } from '../format.js';
import { parseStorageOption } from './storage.command.js';
import { addSlotOptions, nonPassphraseSlots, parseKdf } from './key-slot-options.js';
import type { SlotOptions } from './key-slot-options.js';

interface InitOptions extends SlotOptions {
  withPassphrase?: boolean;
  cryptoperiodDays?: string;
  compression: string;
  compressionLevel?: string;
}

const MIN_PASSPHRASE_LENGTH = 12;

/** `tresor init`: creates a repository protected by a passphrase or a public key. */
export function registerInit(program: Command): void {
  addSlotOptions(
    program
      .command('init')
      .description('create a repository (passphrase-protected, or write-only with --public-key; several key slots allowed)')
      .option('--with-passphrase', 'also add a passphrase slot when public-key, HSM or KMS slots are given')
      .option('--cryptoperiod-days <n>', 'rotate the KEK after N days (warned by `keys list`)'),
  )
    .option('--compression <codec>', 'default codec: none, gzip, brotli, xz, bzip2, zstd', 'zstd')
    .option('--compression-level <n>', 'default compression level for the codec')
    .option('--storage <json>', 'storage locations instead of objects/ in the repository: JSON or @file.json (docs/storage.md); default: the storage section of --config')
    .option('--write-policy <policy>', 'with several locations: all (default) or quorum')
    .action(async (_opts: InitOptions, command: Command) => {
      const options = optionsOf<InitOptions>(command);
      const codec = parseCodec(options.compression);
      const level = options.compressionLevel === undefined ? CODECS[codec].defaultLevel : parseInteger(options.compressionLevel);
      validateLevel(codec, level);
      const { storage: storageOption, writePolicy } = optionsOf<{ storage?: string; writePolicy?: string }>(command);
      // The config file's storage section (and repository) when --storage is not given.
      const configured = storageOption === undefined ? (await loadConfigFile(options))?.unified?.storage : undefined;
      const dir = repoDir(options);
      const kek = await chooseKek(options);
      const storage = storageOption === undefined ? configured : await parseStorageOption(storageOption, writePolicy);
      const config = await initRepository(dir, { kek, compression: { codec, level }, ...(storage ? { storage } : {}) });
      const protection = kek.type === 'slots' ? kek.slots.map((s) => s.type).join('+') : kek.type;
      // The repository's audit chain starts with its own creation.
      await (await RepositoryAuditLog.open(dir)).record({ action: 'repository.init', outcome: 'success', target: dir, details: { repositoryId: config.repositoryId, protection } });
      if (options.json) printJson({ repository: dir, repositoryId: config.repositoryId, protection });
      else {
        const what = kek.type === 'passphrase' ? 'passphrase' : kek.type === 'rsa-oaep-sha256' ? 'write-only, public key' : `key slots: ${protection}`;
        process.stdout.write(`created repository ${config.repositoryId} at ${dir} (${what})\n`);
      }
    });
}

async function chooseKek(options: InitOptions & { passphraseEnv?: string }): Promise<InitKek> {
  const kdf = parseKdf(options.kdf);
  const others = await nonPassphraseSlots(options);
  const cryptoperiodDays = options.cryptoperiodDays === undefined ? undefined : parseInteger(options.cryptoperiodDays);
  const wantsPassphrase = others.length === 0 || options.withPassphrase === true;
  if (!wantsPassphrase && options.passphraseEnv) throw new UsageError('--passphrase-env needs --with-passphrase when other key slots are given');
  // One RSA public key alone, or a passphrase alone: the original single-KEK repository.
  if (!wantsPassphrase && others.length === 1 && cryptoperiodDays === undefined) {
    const only = others[0]!;
    if (only.type === 'public-key' && isRsaPem(only.publicKeyPem)) return { type: 'rsa-oaep-sha256', publicKeyPem: only.publicKeyPem };
  }
  const slots: SlotSpec[] = [];
  if (wantsPassphrase) {
    const passphrase = await readPassphrase(options, 'New repository passphrase: ');
    if (!options.passphraseEnv && !process.env.TRESOR_PASSPHRASE) {
      if ((await askSecret('Repeat the passphrase: ')) !== passphrase) throw new UsageError('the passphrases do not match');
    }
    if (passphrase.length < MIN_PASSPHRASE_LENGTH) {
      throw new UsageError(`the passphrase is too short: use at least ${MIN_PASSPHRASE_LENGTH} characters`);
    }
    if (others.length === 0 && cryptoperiodDays === undefined) return { type: 'passphrase', passphrase, kdf };
    slots.push({ type: 'passphrase', passphrase, kdf });
  }
  return { type: 'slots', slots: [...slots, ...others], ...(cryptoperiodDays ? { cryptoperiodDays } : {}) };
}

function isRsaPem(pem: string): boolean {
  try {
    return createPublicKey(pem).asymmetricKeyType === 'rsa';
  } catch {
    return true; // Let the RSA loader report what is wrong with it.
  }
}

/** Parses a whole number option value. */
export function parseInteger(value: string): number {
  if (!/^-?\d+$/.test(value)) throw new UsageError(`'${value}' is not a whole number`);
  return Number(value);
}
