import { createPublicKey } from 'node:crypto';
import { readFile, rename } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import type { AuditAppendInput, AuditEntry, AuditOutcome, AuditVerifyReport } from '@tresor/contracts';
import { AuditLog, JsonlAuditStore, trustedKeys, verifyAuditChain } from '@tresor/audit-log';
import type { CheckpointSigner } from '@tresor/audit-log';
import { keyFingerprint } from '@tresor/crypto';
import { readLocalConfig } from '../config.js';
import { localPaths } from '../layout.js';

/** One state-changing operation. `details` never holds secrets (no shares, PINs, passphrases or keys). */
export interface KeyAuditEvent {
  readonly action: string;
  readonly outcome: AuditOutcome;
  /** What it acted on (backup id, source path, key version); default: the repository directory. */
  readonly target?: string;
  readonly details?: Record<string, unknown>;
}

/** Where the CLI records what it changes; RepositoryAuditLog is the adapter. */
export interface KeyAuditLog {
  record(event: KeyAuditEvent): Promise<void>;
}

const CLI_AGENT = 'tresor-cli/0.1.0';

/** `<repo>/audit`: the repository's hash chain (`audit.jsonl`, `checkpoints.jsonl`). */
export const repositoryAuditDir = (repoDir: string): string => join(repoDir, 'audit');

/**
 * The repository's tamper-evident audit log (docs/audit.md, ADR 15): the hash chain in
 * `<repo>/audit/audit.jsonl`, a checkpoint after every entry signed with the repository's
 * signing key (`keys/signing.pem`, pinned by `signingKeyId` in tresor.json). A CLI process is
 * short-lived and cannot wait for a timed checkpoint, so every entry is covered at once.
 */
export class RepositoryAuditLog implements KeyAuditLog {
  private constructor(
    readonly repoDir: string,
    readonly log: AuditLog,
  ) {}

  /** Opens the log (moving a legacy `keys.jsonl` into the chain first). Needs no passphrase. */
  static async open(repoDir: string): Promise<RepositoryAuditLog> {
    const store = new JsonlAuditStore(repositoryAuditDir(repoDir));
    const signer = await repositorySigner(repoDir);
    const log = new AuditLog({ store, ...(signer ? { signer } : {}), checkpointEvery: 1 });
    const audit = new RepositoryAuditLog(repoDir, log);
    await audit.migrateLegacyKeyLog();
    return audit;
  }

  /** Appends an entry with the OS user as actor; rejects when it cannot be written (the caller must not go on). */
  async record(event: KeyAuditEvent): Promise<void> {
    await this.append(event);
  }

  async append(event: KeyAuditEvent, time?: string): Promise<AuditEntry> {
    const input: AuditAppendInput = {
      ...(time ? { time } : {}),
      actor: { user: osUser(), roles: [], ip: null, userAgent: CLI_AGENT },
      action: event.action,
      target: event.target || this.repoDir,
      outcome: event.outcome,
      details: { host: hostname(), pid: process.pid, ...event.details },
    };
    return this.log.append(input);
  }

  /** Before the chain existed, key events went to `audit/keys.jsonl`: append them once, in order, then rename the file. */
  private async migrateLegacyKeyLog(): Promise<void> {
    const legacy = join(repositoryAuditDir(this.repoDir), 'keys.jsonl');
    let text: string;
    try {
      text = await readFile(legacy, 'utf8');
    } catch {
      return;
    }
    for (const line of text.split('\n').filter((l) => l.trim())) {
      let old: Record<string, unknown>;
      try {
        old = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue;
      }
      const time = typeof old.time === 'string' && !Number.isNaN(Date.parse(old.time)) ? old.time : undefined;
      await this.log.append({
        ...(time ? { time } : {}),
        actor: { user: typeof old.actor === 'string' && old.actor ? old.actor : 'unknown', roles: [], ip: null, userAgent: CLI_AGENT },
        action: typeof old.action === 'string' && old.action ? (old.action.startsWith('keys.') ? old.action : `keys.${old.action}`) : 'keys.unknown',
        target: this.repoDir,
        outcome: old.outcome === 'failure' ? 'failure' : 'success',
        details: { migratedFrom: 'keys.jsonl', host: old.host, pid: old.pid, ...(old.details as Record<string, unknown> | undefined) },
      });
    }
    await rename(legacy, `${legacy}.migrated`);
  }
}

/** Verifies the repository's chain with the repository's pinned signing key. */
export async function verifyRepositoryAudit(repoDir: string): Promise<AuditVerifyReport> {
  const signer = await repositorySigner(repoDir);
  return verifyAuditChain(new JsonlAuditStore(repositoryAuditDir(repoDir)), trustedKeys(signer ? [signer.publicKeyPem] : []));
}

/** The repository's signing key, if its fingerprint is the one tresor.json pins. */
async function repositorySigner(repoDir: string): Promise<CheckpointSigner | undefined> {
  const paths = localPaths(repoDir);
  const config = await readLocalConfig(paths.config);
  let privateKeyPem: string;
  try {
    privateKeyPem = await readFile(paths.signingKey, 'utf8');
  } catch {
    return undefined;
  }
  const publicKeyPem = createPublicKey(privateKeyPem).export({ type: 'spki', format: 'pem' }).toString();
  return keyFingerprint(publicKeyPem) === config.signingKeyId ? { privateKeyPem, publicKeyPem } : undefined;
}

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return `uid:${process.getuid?.() ?? 'unknown'}`;
  }
}
