import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { parseCodec, validateLevel, CODECS } from '@tresor/archive';
import { UsageError } from '@tresor/errors';
import { initRepository } from '@tresor/repository';
import type { InitKek } from '@tresor/repository';
import { optionsOf, readPassphrase, repoDir } from '../context.js';
import { askSecret } from '../prompt.js';
import { printJson } from '../format.js';
import { parseStorageOption } from './storage.command.js';

interface InitOptions {
  publicKey?: string;
  kdf: string;
  compression: string;
  compressionLevel?: string;
}

const MIN_PASSPHRASE_LENGTH = 12;

/** `tresor init`: creates a repository protected by a passphrase or a public key. */
export function registerInit(program: Command): void {
  program
    .command('init')
    .description('create a repository (passphrase-protected, or write-only with --public-key)')
    .option('--public-key <file>', 'RSA public key (PEM, >= 3072 bits): this host can back up but not restore')
    .option('--kdf <alg>', 'passphrase key derivation: argon2id or scrypt', 'argon2id')
    .option('--compression <codec>', 'default codec: none, gzip, brotli, xz, bzip2, zstd', 'zstd')
    .option('--compression-level <n>', 'default compression level for the codec')
    .option('--storage <json>', 'storage locations instead of objects/ in the repository: JSON or @file.json (docs/storage.md)')
    .option('--write-policy <policy>', 'with several locations: all (default) or quorum')
    .action(async (_opts: InitOptions, command: Command) => {
      const options = optionsOf<InitOptions>(command);
      const codec = parseCodec(options.compression);
      const level = options.compressionLevel === undefined ? CODECS[codec].defaultLevel : parseInteger(options.compressionLevel);
      validateLevel(codec, level);
      const dir = repoDir(options);
      const kek = await chooseKek(options);
      const { storage: storageOption, writePolicy } = optionsOf<{ storage?: string; writePolicy?: string }>(command);
      const storage = storageOption === undefined ? undefined : await parseStorageOption(storageOption, writePolicy);
      const config = await initRepository(dir, { kek, compression: { codec, level }, ...(storage ? { storage } : {}) });
      if (options.json) printJson({ repository: dir, repositoryId: config.repositoryId, protection: kek.type });
      else {
        process.stdout.write(`created repository ${config.repositoryId} at ${dir} (${kek.type === 'passphrase' ? 'passphrase' : 'write-only, public key'})\n`);
      }
    });
}

async function chooseKek(options: InitOptions & { passphraseEnv?: string }): Promise<InitKek> {
  if (options.publicKey) {
    if (options.passphraseEnv) throw new UsageError('--public-key and --passphrase-env exclude each other');
    const pem = await readFile(options.publicKey, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw new UsageError(`cannot read public key ${options.publicKey}: ${err.code ?? err.message}`);
    });
    return { type: 'rsa-oaep-sha256', publicKeyPem: pem };
  }
  if (options.kdf !== 'argon2id' && options.kdf !== 'scrypt') {
    throw new UsageError(`unknown --kdf '${options.kdf}' (choose argon2id or scrypt)`);
  }
  const passphrase = await readPassphrase(options, 'New repository passphrase: ');
  if (!options.passphraseEnv && !process.env.TRESOR_PASSPHRASE) {
    if ((await askSecret('Repeat the passphrase: ')) !== passphrase) throw new UsageError('the passphrases do not match');
  }
  if (passphrase.length < MIN_PASSPHRASE_LENGTH) {
    throw new UsageError(`the passphrase is too short: use at least ${MIN_PASSPHRASE_LENGTH} characters`);
  }
  return { type: 'passphrase', passphrase, kdf: options.kdf };
}

/** Parses a whole number option value. */
export function parseInteger(value: string): number {
  if (!/^-?\d+$/.test(value)) throw new UsageError(`'${value}' is not a whole number`);
  return Number(value);
}
