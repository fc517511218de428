import { parseMonitorConfig } from '@tresor/assurance';
import type { MonitorConfig } from '@tresor/assurance';
import type { RetentionConfig } from '@tresor/repository';
import { toLoadedSchedules } from '@tresor/scheduling';
import type { LoadedSchedule } from '@tresor/scheduling';
import type { TresorConfig } from './schema.js';

/** The monitor.json the commands know, built from the sections of the unified file. */
export function monitorConfigOf(config: TresorConfig, file: string): MonitorConfig {
  const sources = Object.fromEntries(
    Object.entries(config.sources).map(([location, { rpoHours, immutable, sensitive }]) => [
      location,
      { ...(rpoHours !== undefined ? { rpoHours } : {}), ...(immutable !== undefined ? { immutable } : {}), ...(sensitive !== undefined ? { sensitive } : {}) },
    ]),
  );
  return parseMonitorConfig({ ...config.monitoring, sources, keys: config.keys }, file);
}

/** The schedules ready to plan; each gets its source's tags before its own. */
export function schedulesOf(config: TresorConfig, file: string): LoadedSchedule[] {
  const entries = config.schedules.map((s) => {
    const sourceTags = config.sources[s.source]?.tags ?? [];
    return { ...s, tags: [...new Set([...sourceTags, ...s.tags])] };
  });
  return toLoadedSchedules(entries, file);
}

/** The retention policies: `retention.default` and the per-source ones of both sections. */
export function retentionOf(config: TresorConfig): RetentionConfig | undefined {
  const own = Object.entries(config.sources).flatMap(([location, s]) => (s.retention ? [[location, s.retention] as const] : []));
  if (!config.retention && own.length === 0) return undefined;
  return {
    ...(config.retention?.default ? { default: config.retention.default } : {}),
    sources: { ...config.retention?.sources, ...Object.fromEntries(own) },
  };
}
