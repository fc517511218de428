import type { TresorConfig } from './schema.js';
import { retentionOf } from './views.js';

/** What a valid config sets up, counted: the answer of `tresor config validate`. */
export interface ConfigSummary {
  readonly repository?: string;
  readonly sources: number;
  readonly schedules: number;
  readonly retention: { readonly default: boolean; readonly perSource: number };
  readonly storage: string;
  readonly alertChannels: string[];
  readonly checkIntervalSeconds: number;
}

/** Counts the sections of a validated config. */
export function summarizeConfig(config: TresorConfig): ConfigSummary {
  const retention = retentionOf(config);
  const storage = config.storage === undefined ? 'not set' : 'locations' in config.storage ? `${config.storage.locations.length} location(s), write policy ${config.storage.writePolicy}` : `local ${config.storage.path}`;
  return {
    ...(config.repository !== undefined ? { repository: config.repository } : {}),
    sources: Object.keys(config.sources).length,
    schedules: config.schedules.length,
    retention: { default: retention?.default !== undefined, perSource: Object.keys(retention?.sources ?? {}).length },
    storage,
    alertChannels: Object.keys(config.monitoring.alerts?.channels ?? {}),
    checkIntervalSeconds: config.monitoring.intervalSeconds,
  };
}

/** The summary as one line of text. */
export function formatSummary(file: string, s: ConfigSummary): string {
  const retention = [s.retention.default ? 'default' : '', s.retention.perSource ? `${s.retention.perSource} per source` : ''].filter(Boolean).join(' + ') || 'none';
  return `${file}: valid; ${s.sources} source(s), ${s.schedules} schedule(s), retention: ${retention}, storage: ${s.storage}, alert channels: ${s.alertChannels.join(', ') || 'none'}, checks every ${s.checkIntervalSeconds} s`;
}
