import { checkContentDigest, corruptData, verifyContent } from '@tresor/archive';
import type { ArchiveReader, Entry, FrameCheck } from '@tresor/archive';
import { IntegrityError } from '@tresor/errors';
import { contentCheckPool } from './check-pool.js';
import type { ArchiveSet } from '../archives.js';
import type { VerifyRun } from './verify.service.js';

/**
 * Frames sent to a verify thread together, and groups out at once: with 4 (2 per thread) this
 * thread waited on the threads a quarter of a 100k-file verify; 16 keep them fed (~2 MB of frames).
 */
const GROUP_SIZE = 64;
const GROUPS_IN_FLIGHT = 16;

interface Pending {
  readonly entry: Entry;
  readonly line: string | undefined;
  readonly reader: ArchiveReader;
  readonly frame: Buffer;
}

/**
 * Checks the content of a backup's file entries for deep verify, in the order of its entry table.
 * Small zstd contents (nearly every key file) are read and decrypted here and decompressed and
 * hashed on the verify threads, in groups, while this thread reads on; everything else goes
 * through verifyContent. Each stored content is checked once per run. The first problem in table
 * order is reported, as an IntegrityError naming the backup.
 */
export class ContentChecker {
  private group: Pending[] = [];
  private readonly inFlight: Promise<void>[] = [];

  constructor(
    /** The run's record of checked contents and its open archives. */
    private readonly run: Pick<VerifyRun, 'has' | 'add'> & { readonly archives: Pick<ArchiveSet, 'open'> },
    private readonly backupId: string,
  ) {}

  /**
   * Checks (or queues) one file entry's content, and records it (with its table line's key, when
   * given) in the run once it checks out; rejects with a problem found so far.
   */
  async add(entry: Entry, line?: string): Promise<void> {
    if (this.run.has(entry)) {
      this.run.add(entry, line);
      return;
    }
    const reader = await this.run.archives.open(entry.data!.backupId);
    const frame =
      entry.data?.codec === 'zstd' && entry.sha256 !== undefined
        ? await this.named(reader.readSmallCompressed(entry.data, entry.size))
        : undefined;
    if (frame === undefined) {
      await this.checkHere(reader, entry, line);
      return;
    }
    this.group.push({ entry, line, reader, frame });
    if (this.group.length >= GROUP_SIZE) await this.send();
  }

  /** Waits for every queued check; rejects with the first problem in table order. */
  async finish(): Promise<void> {
    await this.send();
    while (this.inFlight.length > 0) await this.inFlight.shift();
  }

  private async send(): Promise<void> {
    if (this.group.length === 0) return;
    const group = this.group;
    this.group = [];
    const checked = this.checkGroup(group);
    // Rejections are delivered in order when awaited below, not as unhandled ones now.
    checked.catch(() => undefined);
    this.inFlight.push(checked);
    while (this.inFlight.length > GROUPS_IN_FLIGHT) await this.inFlight.shift();
  }

  private async checkGroup(group: Pending[]): Promise<void> {
    const findings = await contentCheckPool().check(group.map(({ entry, frame }) => ({ frame, size: entry.size })));
    for (const [i, { entry, line, reader }] of group.entries()) {
      const finding = findings[i]!;
      if ('fallback' in finding) await this.checkHere(reader, entry, line);
      else this.accept(entry, line, reader, finding);
    }
  }

  private accept(entry: Entry, line: string | undefined, reader: ArchiveReader, finding: Exclude<FrameCheck, { fallback: true }>): void {
    if ('corrupt' in finding) throw this.problem(corruptData('zstd', new Error(finding.corrupt)));
    try {
      checkContentDigest(entry, reader.backupId, finding.length, finding.sha256);
    } catch (err) {
      throw this.problem(err);
    }
    this.run.add(entry, line);
  }

  private async checkHere(reader: ArchiveReader, entry: Entry, line: string | undefined): Promise<void> {
    await this.named(verifyContent(reader, entry));
    this.run.add(entry, line);
  }

  /** `work`'s integrity problem, named after the backup being verified. */
  private named<T>(work: Promise<T>): Promise<T> {
    return work.catch((err: unknown) => {
      throw this.problem(err);
    });
  }

  private problem(err: unknown): unknown {
    if (err instanceof IntegrityError) return new IntegrityError(`backup ${this.backupId}: ${err.message}`, { cause: err });
    return err;
  }
}
