import { z } from 'zod';
import { CronTimetable } from '@tresor/scheduling';
import type { TresorConfigInput } from '../schema.js';
import { parseSeed } from './parse.js';
import type { Translation } from './parse.js';

/** The seed system's `backup_config.json`, as documented in docs/configuration.md. */
export const seedBackupConfigSchema = z
  .strictObject({
    /** Directories backed up (`sources` is accepted as another name for it). */
    backup_dirs: z.array(z.string().min(1)).min(1).optional(),
    sources: z.array(z.string().min(1)).min(1).optional(),
    /** Directory the archives were written to. */
    destination: z.string().min(1),
    retention_days: z.number().int().min(1).optional(),
    max_backups: z.number().int().min(1).optional(),
    compression: z.enum(['gzip', 'bzip2', 'lzma', 'none']).optional(),
    encryption: z.strictObject({ enabled: z.boolean(), key_file: z.string().min(1).optional() }).optional(),
    /** Cron expression (5 fields) of the seed's crontab line. */
    schedule: z.string().min(1).optional(),
  })
  .superRefine((seed, ctx) => {
    if ((seed.backup_dirs === undefined) === (seed.sources === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['backup_dirs'], message: 'expected exactly one of backup_dirs or sources (a list of directories)' });
    }
    if (seed.schedule === undefined) return;
    try {
      new CronTimetable(seed.schedule);
    } catch (err) {
      ctx.addIssue({ code: 'custom', path: ['schedule'], message: (err as Error).message });
    }
  });

/** Tresor's name of each seed codec: lzma is what Tresor calls xz. */
const CODEC = { gzip: 'gzip', bzip2: 'bzip2', lzma: 'xz', none: 'none' } as const;

/** A schedule id from a directory: `seed-` and its last path elements, made safe. */
function scheduleId(dir: string, i: number): string {
  const slug = dir.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(-80) || 'root';
  return `seed-${i + 1}-${slug}`;
}

/** Translates the seed's `backup_config.json` into a Tresor config fragment plus notes on what has no equivalent. */
export function translateSeedBackupConfig(json: unknown, where = 'backup_config.json'): Translation {
  const seed = parseSeed(seedBackupConfigSchema, json, where);
  const dirs = seed.backup_dirs ?? seed.sources ?? [];
  const notes: string[] = [];
  const config: TresorConfigInput = {
    version: 1,
    storage: { type: 'local', path: seed.destination },
    sources: Object.fromEntries(dirs.map((d) => [d, {}])),
  };
  if (seed.retention_days !== undefined || seed.max_backups !== undefined) {
    config.retention = {
      default: {
        ...(seed.retention_days !== undefined ? { retentionDays: seed.retention_days } : {}),
        ...(seed.max_backups !== undefined ? { maxBackups: seed.max_backups } : {}),
      },
    };
  }
  if (seed.schedule !== undefined) {
    config.schedules = dirs.map((source, i) => ({ id: scheduleId(source, i), source, cron: seed.schedule! }));
    notes.push(`${where}: schedule: the seed's crontab ran in the host's local time zone; the translated schedules use UTC unless you set schedules[].timezone`);
  }
  if (seed.compression !== undefined) {
    const codec = CODEC[seed.compression];
    notes.push(
      `${where}: compression: ${seed.compression}${codec !== seed.compression ? ` is Tresor's ${codec}` : ''}; the codec is chosen once per repository: \`tresor init --compression ${codec}\``,
    );
  }
  if (seed.encryption?.enabled === false) notes.push(`${where}: encryption.enabled: false has no equivalent: Tresor always encrypts`);
  if (seed.encryption?.key_file !== undefined) {
    notes.push(
      `${where}: encryption.key_file: Tresor reads no key file from its config; give the repository a passphrase (TRESOR_PASSPHRASE) or a key slot at \`tresor init\` (docs/keys.md)`,
    );
  }
  return { config, notes };
}
