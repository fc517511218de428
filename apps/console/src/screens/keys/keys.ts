// Types of GET /v1/keys and how its values read.
import type { Tone } from '../../components/StatusBadge';

/** A key slot without key material. */
export interface PublicSlot {
  type: string;
  kekId: string;
  recovery?: { threshold: number; custodians: string[] };
}

/** A KEK version and where it stands in its cryptoperiod. */
export interface KekVersionOverview {
  version: number;
  state: 'active' | 'disabled' | 'destroyed';
  createdAt: string;
  ageDays: number;
  cryptoperiodDays: number;
  defaulted: boolean;
  rotateBy: string;
  daysLeft: number;
  status: 'ok' | 'due' | 'overdue' | 'inactive';
  slots: PublicSlot[];
}

/** GET /v1/keys. */
export interface KeysOverview {
  repositoryId: string;
  generatedAt: string;
  warnDays: number;
  providers: { type: string; versions: number[] }[];
  versions: KekVersionOverview[];
  warnings: string[];
}

export const PROVIDER_NAMES: Record<string, string> = {
  passphrase: 'Passphrase (argon2id/scrypt)',
  'rsa-oaep-sha256': 'RSA-OAEP public key',
  x25519: 'X25519 public key',
  'pkcs11-aes-gcm': 'PKCS#11 HSM',
  'aws-kms': 'AWS KMS',
  'azure-key-vault': 'Azure Key Vault',
  'gcp-kms': 'Google Cloud KMS',
};

/** A slot in a few words: its provider, and for a recovery key its M-of-N holders. */
export function slotText(s: PublicSlot): string {
  const name = PROVIDER_NAMES[s.type] ?? s.type;
  return s.recovery ? `${name}, recovery ${s.recovery.threshold} of ${s.recovery.custodians.length} (${s.recovery.custodians.join(', ')})` : name;
}

/** Overdue is bad, due a warning, ok fine, inactive (disabled/destroyed) neutral. */
export function cryptoperiodTone(status: KekVersionOverview['status']): Tone {
  return status === 'overdue' ? 'bad' : status === 'due' ? 'warn' : status === 'ok' ? 'ok' : 'neutral';
}
