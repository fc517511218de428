import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { drillRecordSchema } from '@tresor/contracts';
import type { DrillRecord } from '@tresor/contracts';

// The record is a contract: the monitoring service, the gateway API and libs/client share it.
export { drillRecordSchema } from '@tresor/contracts';
export type { DrillRecord } from '@tresor/contracts';

/** Where drill results are kept: the compliance report and the verify check read them back. */
export interface DrillStore {
  add(record: DrillRecord): Promise<void>;
  list(): Promise<DrillRecord[]>;
}

/**
 * Drill results of a standalone repository, one JSON line each (`<repo>/drills.jsonl`): append-only,
 * readable with any tool, and small (one line per drill).
 */
export class JsonlDrillStore implements DrillStore {
  constructor(readonly file: string) {}

  async add(record: DrillRecord): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true });
    await appendFile(this.file, `${JSON.stringify(drillRecordSchema.parse(record))}\n`, { mode: 0o600 });
  }

  async list(): Promise<DrillRecord[]> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    // A torn last line (a crash mid-append) is skipped, not fatal.
    return text.split('\n').flatMap((line) => {
      try {
        const parsed = drillRecordSchema.safeParse(JSON.parse(line));
        return parsed.success ? [parsed.data] : [];
      } catch {
        return [];
      }
    });
  }
}
