import type { CommandConfig } from '@tresor/config';
import type { LoadedSchedule } from '@tresor/scheduling';
import type { GlobalOptions } from './context.js';

/** The config file named by --config (global or the command's own), else $TRESOR_CONFIG. */
export function configFileOf(options: GlobalOptions): string | undefined {
  return options.config ?? (process.env.TRESOR_CONFIG || undefined);
}

// One read per command run, however many parts of it ask.
const loaded = new WeakMap<GlobalOptions, Promise<CommandConfig | undefined>>();

/**
 * The file --config or TRESOR_CONFIG names (the unified config, or a monitor.json), read once;
 * its `repository` stands in for --repo when neither --repo nor TRESOR_REPO is given.
 */
export function loadConfigFile(options: GlobalOptions): Promise<CommandConfig | undefined> {
  let pending = loaded.get(options);
  if (!pending) {
    pending = (async () => {
      const file = configFileOf(options);
      if (file === undefined) return undefined;
      // Loaded on use, like @tresor/assurance: the schemas pull in alerting and TLS clients.
      const { loadCommandConfig } = await import('@tresor/config');
      const config = await loadCommandConfig(file);
      if (config.unified?.repository !== undefined && options.repo === undefined && !process.env.TRESOR_REPO) options.repo = config.unified.repository;
      return config;
    })();
    loaded.set(options, pending);
  }
  return pending;
}

/**
 * The schedules the compliance report judges when the config file is the unified one and does
 * not name a separate schedule file (monitoring.compliance.scheduleFile); else undefined.
 */
export async function configuredSchedules(options: GlobalOptions): Promise<{ schedules: LoadedSchedule[]; problem?: string } | undefined> {
  const given = await loadConfigFile(options);
  if (!given?.unified || given.monitor.compliance.scheduleFile !== undefined) return undefined;
  const { schedulesOf } = await import('@tresor/config');
  return { schedules: schedulesOf(given.unified, given.file) };
}
