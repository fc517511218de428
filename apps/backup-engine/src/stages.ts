import { context } from '@opentelemetry/api';
import { startSpan, withSpan } from '@tresor/messaging';
import type { ActiveSpan } from '@tresor/messaging';

/**
 * The coarse stage spans of one backup job, children of its `process backup` span
 * (docs/monitoring.md "Tracing"): reading, compressing, encrypting and uploading are one streamed
 * pipeline, so they share `backup.archive`; `backup.commit` runs from the manifest put (the commit
 * point) until the job is recorded complete.
 */
export class BackupStages {
  private commitSpan: ActiveSpan | undefined;

  /** Opening the repository: its descriptor and this host's keys. */
  open<T>(work: () => Promise<T>): Promise<T> {
    return withSpan('backup.open', {}, work);
  }

  /** The archive put: source read, compressed and encrypted as it is uploaded. */
  archive<T>(work: () => Promise<T>): Promise<T> {
    return withSpan('backup.archive', {}, work);
  }

  /** Starts the commit stage (ended by `finish`) and runs the manifest put inside it. */
  commit<T>(work: () => Promise<T>): Promise<T> {
    this.commitSpan ??= startSpan('backup.commit');
    return context.with(this.commitSpan.context, work);
  }

  /** Runs `work` in the commit stage when it has begun (the job's completion belongs to it). */
  inCommit<T>(work: () => Promise<T>): Promise<T> {
    return this.commitSpan ? context.with(this.commitSpan.context, work) : work();
  }

  /** Ends the commit stage, failed when `err` is given. */
  finish(err?: unknown): void {
    this.commitSpan?.end(err);
    this.commitSpan = undefined;
  }
}
