import { readFile } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { parseMonitorConfig } from '@tresor/assurance';
import type { MonitorConfig } from '@tresor/assurance';
import { ConfigError } from './config-error.js';
import { describeFirstIssue } from './issues.js';
import { tresorConfigSchema } from './schema.js';
import type { TresorConfig } from './schema.js';
import { seedLayoutOf } from './seed/detect.js';
import { monitorConfigOf } from './views.js';

/** Reads a YAML or JSON file (by extension; otherwise JSON if it starts with `{`, else YAML). */
export async function readConfigDocument(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  const ext = extname(file).toLowerCase();
  const json = ext === '.json' || (ext !== '.yaml' && ext !== '.yml' && text.trimStart().startsWith('{'));
  if (json) {
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new ConfigError(`${file}: not valid JSON (${(err as Error).message})`);
    }
  }
  // One document; duplicate keys are an error (a later one would silently win otherwise).
  const lines = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true, lineCounter: lines });
  const problem = doc.errors[0];
  if (problem) {
    const at = lines.linePos(problem.pos[0]);
    throw new ConfigError(`${file}:${at.line}:${at.col}: not valid YAML (${problem.message.split('\n')[0]})`);
  }
  return doc.toJS();
}

/** Validates a parsed document as the unified config; relative `repository` resolved against `file`'s directory. */
export function parseTresorConfig(doc: unknown, file: string): TresorConfig {
  const seed = seedLayoutOf(doc);
  if (seed) {
    throw new ConfigError(
      `${file}: this is the seed system's ${seed} layout, not a Tresor config; translate it once with \`tresor config translate --${seed === 'backup_config.json' ? 'backup' : 'monitor'}-config ${file}\` (docs/configuration.md)`,
    );
  }
  const parsed = tresorConfigSchema.safeParse(doc);
  if (!parsed.success) throw new ConfigError(describeFirstIssue(file, parsed.error, tresorConfigSchema, doc));
  const config = parsed.data;
  return config.repository === undefined ? config : { ...config, repository: resolve(dirname(file), config.repository) };
}

/** Reads and validates the unified config file; ConfigError (exit 2) naming file, path and expected form. */
export async function loadTresorConfig(file: string): Promise<TresorConfig> {
  return parseTresorConfig(await readConfigDocument(file), file);
}

/** True when a parsed document is the unified config (it carries `version`) rather than an older monitor.json. */
export function isTresorConfigDocument(doc: unknown): boolean {
  return typeof doc === 'object' && doc !== null && !Array.isArray(doc) && 'version' in doc;
}

/** A file a command was pointed at: the unified config, or an older monitor.json. */
export interface CommandConfig {
  readonly file: string;
  readonly monitor: MonitorConfig;
  /** Present when the file is the unified config. */
  readonly unified?: TresorConfig;
}

/**
 * Reads a file given to `--config`: the unified config (it has `version`) gives its monitoring
 * view, anything else is read as a monitor.json, so the old files keep working.
 */
export async function loadCommandConfig(file: string): Promise<CommandConfig> {
  const doc = await readConfigDocument(file);
  if (!isTresorConfigDocument(doc) && !seedLayoutOf(doc)) return { file, monitor: parseMonitorConfig(doc, file) };
  const unified = parseTresorConfig(doc, file);
  return { file, unified, monitor: monitorConfigOf(unified, file) };
}
