import { auditAppendInputSchema } from '@tresor/contracts';
import type { AuditAppendInput, AuditCheckpoint, AuditEntry } from '@tresor/contracts';
import { ConflictError, IoError } from '@tresor/errors';
import type { CheckpointSigner } from './checkpoint.js';
import { signCheckpoint } from './checkpoint.js';
import { GENESIS_HASH, sealEntry } from './entry.js';
import type { AuditStore } from './store.js';

export interface AuditLogOptions {
  readonly store: AuditStore;
  /** Signs checkpoints; without it no checkpoints are written. */
  readonly signer?: CheckpointSigner;
  /** A checkpoint after this many entries since the last one (default 100). */
  readonly checkpointEvery?: number;
  /** ... or when the last one is this old at an append (default 60 s; `startCheckpointTimer` covers idle logs). */
  readonly checkpointIntervalMs?: number;
  readonly now?: () => Date;
  /** Told when a checkpoint could not be written; the append it followed still stands. */
  readonly onCheckpointError?: (err: unknown) => void;
}

const MAX_ATTEMPTS = 8;

/**
 * The append side of the audit log: one append at a time per process (each entry needs the hash
 * of the one before), retried on a conflict with another writer, with signed checkpoints.
 */
export class AuditLog {
  private queue: Promise<unknown> = Promise.resolve();
  private headCache: AuditEntry | undefined;
  private checkpointCache: AuditCheckpoint | undefined;
  private checkpointLoaded = false;
  private readonly openedAt: Date;

  constructor(private readonly options: AuditLogOptions) {
    this.openedAt = this.now();
  }

  get store(): AuditStore {
    return this.options.store;
  }

  /** Appends one entry and resolves once it is stored; rejects (IoError, ...) when it is not. */
  append(input: AuditAppendInput): Promise<AuditEntry> {
    const parsed = auditAppendInputSchema.parse(input);
    return this.serial(async () => {
      if (parsed.id) {
        const existing = await this.options.store.findById(parsed.id);
        if (existing) return existing;
      }
      for (let attempt = 1; ; attempt += 1) {
        const head = this.headCache ?? (await this.options.store.head());
        const entry = sealEntry(parsed, (head?.seq ?? 0) + 1, head?.hash ?? GENESIS_HASH, this.now());
        try {
          await this.options.store.append(entry);
        } catch (err) {
          this.headCache = undefined;
          if (!(err instanceof ConflictError)) throw err;
          if (parsed.id) {
            const existing = await this.options.store.findById(parsed.id);
            if (existing) return existing;
          }
          if (attempt >= MAX_ATTEMPTS) throw new IoError(`audit log: gave up appending after ${attempt} conflicts with other writers`, { cause: err });
          continue;
        }
        this.headCache = entry;
        await this.maybeCheckpoint(entry).catch((e: unknown) => this.options.onCheckpointError?.(e));
        return entry;
      }
    });
  }

  /** Signs a checkpoint of the current head if it is newer than the last checkpoint. */
  checkpoint(): Promise<AuditCheckpoint | undefined> {
    return this.serial(async () => {
      const head = await this.options.store.head();
      if (!head) return undefined;
      const last = await this.lastCheckpoint();
      if (last && last.seq >= head.seq) return undefined;
      return this.writeCheckpoint(head);
    });
  }

  /** Checkpoints an idle log every `checkpointIntervalMs`; returns the stop function. */
  startCheckpointTimer(): () => void {
    const timer = setInterval(() => {
      this.checkpoint().catch((e: unknown) => this.options.onCheckpointError?.(e));
    }, this.options.checkpointIntervalMs ?? 60_000);
    timer.unref();
    return () => clearInterval(timer);
  }

  private async maybeCheckpoint(entry: AuditEntry): Promise<void> {
    if (!this.options.signer) return;
    const last = await this.lastCheckpoint();
    const every = this.options.checkpointEvery ?? 100;
    const since = last ? Date.parse(last.time) : this.openedAt.getTime();
    const due = entry.seq - (last?.seq ?? 0) >= every || this.now().getTime() - since >= (this.options.checkpointIntervalMs ?? 60_000);
    if (due) await this.writeCheckpoint(entry);
  }

  private async writeCheckpoint(entry: AuditEntry): Promise<AuditCheckpoint | undefined> {
    if (!this.options.signer) return undefined;
    const cp = signCheckpoint(this.options.signer, entry.seq, entry.hash, this.now());
    await this.options.store.appendCheckpoint(cp);
    this.checkpointCache = cp;
    return cp;
  }

  private async lastCheckpoint(): Promise<AuditCheckpoint | undefined> {
    if (!this.checkpointLoaded) {
      this.checkpointCache = await this.options.store.lastCheckpoint();
      this.checkpointLoaded = true;
    }
    return this.checkpointCache;
  }

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
