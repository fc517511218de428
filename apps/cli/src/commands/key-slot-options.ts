import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { KdfAlgorithm } from '@tresor/crypto';
import { UsageError } from '@tresor/errors';
import type { SlotSpec } from '@tresor/repository';
import { collect } from './options.js';

/** Options that name key slots, shared by `init`, `keys rotate` and `keys recover`. */
export interface SlotOptions {
  publicKey: string[];
  pkcs11Module?: string;
  pkcs11Token?: string;
  pkcs11KeyLabel?: string;
  pkcs11PinEnv?: string;
  awsKmsKey?: string;
  awsRegion?: string;
  awsKmsEndpoint?: string;
  azureKeyVaultKey?: string;
  gcpKmsKey?: string;
  kdf: string;
}

export function addSlotOptions(command: Command): Command {
  return command
    .option('--public-key <file>', 'RSA (>= 3072 bits) or X25519 public key (PEM): a slot that needs no secret to back up (repeatable)', collect, [])
    .option('--pkcs11-module <path>', 'PKCS#11 module of an HSM slot (e.g. /usr/lib/softhsm/libsofthsm2.so)')
    .option('--pkcs11-token <label>', 'token label of the HSM slot')
    .option('--pkcs11-key-label <label>', 'label of the AES-256 key on the token (generated, non-extractable, if missing)')
    .option('--pkcs11-pin-env <var>', 'environment variable holding the token PIN (default TRESOR_PKCS11_PIN)')
    .option('--aws-kms-key <arn>', 'AWS KMS key (ARN) of a KMS slot; credentials from the AWS SDK default chain')
    .option('--aws-region <region>', 'region of the KMS key (default: from the ARN)')
    .option('--aws-kms-endpoint <url>', 'custom KMS endpoint (VPC/FIPS endpoint or an emulator)')
    .option('--azure-key-vault-key <url>', 'Azure Key Vault RSA key (https://VAULT.vault.azure.net/keys/NAME) of a slot; credentials from DefaultAzureCredential')
    .option('--gcp-kms-key <name>', 'Google Cloud KMS key (projects/P/locations/L/keyRings/R/cryptoKeys/K) of a slot; Application Default Credentials')
    .option('--kdf <alg>', 'passphrase key derivation: argon2id, scrypt or pbkdf2-sha256', 'argon2id');
}

export const KDFS: readonly KdfAlgorithm[] = ['argon2id', 'scrypt', 'pbkdf2-sha256'];

export function parseKdf(kdf: string): KdfAlgorithm {
  if (!KDFS.includes(kdf as KdfAlgorithm)) throw new UsageError(`unknown --kdf '${kdf}' (choose ${KDFS.join(', ')})`);
  return kdf as KdfAlgorithm;
}

/** The PIN of a PKCS#11 token, from --pkcs11-pin-env VAR or TRESOR_PKCS11_PIN. */
export function pkcs11PinFromEnv(pinEnv?: string): string {
  const name = pinEnv ?? 'TRESOR_PKCS11_PIN';
  const pin = process.env[name];
  if (!pin) throw new UsageError(`the PKCS#11 token needs its PIN: set ${name}${pinEnv ? '' : ' (or name another variable with --pkcs11-pin-env)'}`);
  return pin;
}

/** Slot specs for the public-key, HSM and KMS options (the passphrase slot is the caller's). */
export async function nonPassphraseSlots(options: SlotOptions): Promise<SlotSpec[]> {
  const specs: SlotSpec[] = [];
  for (const file of options.publicKey) {
    const pem = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw new UsageError(`cannot read public key ${file}: ${err.code ?? err.message}`);
    });
    specs.push({ type: 'public-key', publicKeyPem: pem });
  }
  const hsm = [options.pkcs11Module, options.pkcs11Token, options.pkcs11KeyLabel];
  if (hsm.some((v) => v !== undefined)) {
    if (hsm.some((v) => v === undefined)) throw new UsageError('an HSM slot needs --pkcs11-module, --pkcs11-token and --pkcs11-key-label');
    specs.push({
      type: 'pkcs11',
      module: options.pkcs11Module!,
      tokenLabel: options.pkcs11Token!,
      keyLabel: options.pkcs11KeyLabel!,
      pin: pkcs11PinFromEnv(options.pkcs11PinEnv),
    });
  }
  if (options.awsKmsKey) {
    const region = options.awsRegion ?? /^arn:aws[a-z-]*:kms:([a-z0-9-]+):/.exec(options.awsKmsKey)?.[1];
    if (!region) throw new UsageError('--aws-kms-key is not an ARN: give --aws-region too');
    specs.push({ type: 'aws-kms', keyId: options.awsKmsKey, region, ...(options.awsKmsEndpoint ? { endpoint: options.awsKmsEndpoint } : {}) });
  }
  if (options.azureKeyVaultKey) specs.push({ type: 'azure-key-vault', keyUrl: options.azureKeyVaultKey });
  if (options.gcpKmsKey) specs.push({ type: 'gcp-kms', keyName: options.gcpKmsKey });
  return specs;
}
