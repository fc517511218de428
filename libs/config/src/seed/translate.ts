import { stringify } from 'yaml';
import { ConfigError } from '../config-error.js';
import { describeFirstIssue } from '../issues.js';
import { tresorConfigSchema } from '../schema.js';
import type { TresorConfigInput } from '../schema.js';
import { translateSeedBackupConfig } from './backup.js';
import { translateSeedMonitorConfig } from './monitor.js';
import type { Translation } from './parse.js';

/** The seed files to translate, parsed, each with the name errors and notes give it. */
export interface SeedFiles {
  readonly backup?: { readonly json: unknown; readonly file: string };
  readonly monitor?: { readonly json: unknown; readonly file: string };
}

/** Both seed files as one Tresor config, checked against the schema, with every note. */
export function translateSeed(files: SeedFiles): Translation {
  const backup = files.backup ? translateSeedBackupConfig(files.backup.json, files.backup.file) : undefined;
  const monitor = files.monitor ? translateSeedMonitorConfig(files.monitor.json, files.monitor.file) : undefined;
  if (!backup && !monitor) throw new ConfigError('nothing to translate: give --backup-config FILE, --monitor-config FILE or both');
  const config: TresorConfigInput = { $schema: './tresor.schema.json', version: 1, ...backup?.config, ...monitor?.config };
  const notes = [...(backup?.notes ?? []), ...(monitor?.notes ?? [])];
  // The seed watched its destination: when that is the new storage, the note about it is moot.
  const storagePath = (backup?.config.storage as { path?: string } | undefined)?.path;
  const watched = (files.monitor?.json as { backup_dir?: unknown } | undefined)?.backup_dir;
  const kept = storagePath !== undefined && watched === storagePath ? notes.filter((n) => !n.includes(': backup_dir: ')) : notes;
  const checked = tresorConfigSchema.safeParse(config);
  if (!checked.success) throw new ConfigError(describeFirstIssue('translated config', checked.error, tresorConfigSchema, config));
  return { config, notes: kept };
}

/** The translated config as a file: YAML with the editor's schema line, or JSON. */
export function renderConfig(config: TresorConfigInput, format: 'yaml' | 'json', header: string[] = []): string {
  if (format === 'json') return `${JSON.stringify(config, null, 2)}\n`;
  const { $schema, ...rest } = config;
  const lines = [...($schema ? [`# yaml-language-server: $schema=${$schema}`] : []), ...header.map((h) => `# ${h}`)];
  return `${lines.join('\n')}${lines.length ? '\n' : ''}${stringify(rest, { lineWidth: 0 })}`;
}
