import { readFile } from 'node:fs/promises';
import type { AlertHistory, AlertingConfig, Clock } from '@tresor/alerting';
import { AlertManager, checkAlertingSecrets, createChannels, parseAlertingConfig } from '@tresor/alerting';
import { cloudEventSchema, findEventByType } from '@tresor/contracts';
import type { Bus, Logger } from '@tresor/messaging';
import { UsageError } from '@tresor/errors';
import { alertEventPublisher } from './alert-events.js';
import type { JobSourceLookup } from './job-alerts.js';
import { JobAlertRules } from './job-alerts.js';

/** Reads the `alerts` config file (TRESOR_ALERTS_CONFIG); none means no channels, events only. */
export async function loadAlertingConfig(file: string | undefined): Promise<AlertingConfig> {
  if (!file) return parseAlertingConfig({});
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`TRESOR_ALERTS_CONFIG: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${file}: not JSON (${(err as Error).message})`);
  }
  return parseAlertingConfig(json, file);
}

export interface AlertingWiring {
  readonly manager: AlertManager;
  /** Hands an event message (raw NATS data) to the rules; malformed or foreign events are ignored. */
  onEvent(data: Uint8Array): Promise<void>;
  stop(): Promise<void>;
}

/** The monitoring service's alerting: rules over job events, the manager, channels, events and history. */
export async function startAlerting(options: {
  bus: Bus;
  config: AlertingConfig;
  history: AlertHistory;
  logger: Logger;
  lookupSource?: JobSourceLookup;
  tickMs?: number;
  clock?: Clock;
  /** Notifications go out only while this returns true (the replica is sure it leads). */
  active?: () => boolean;
  /** Re-reads the history this often for alerts another replica recorded after this one resumed (a stalled ex-leader). */
  adoptMs?: number;
}): Promise<AlertingWiring> {
  const { bus, config, history, logger } = options;
  await checkAlertingSecrets(config);
  const manager = new AlertManager({
    ...config,
    channels: createChannels(config),
    history,
    listeners: [alertEventPublisher(bus)],
    logger,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const resumed = await manager.resume();
  const rules = new JobAlertRules(manager, options.lookupSource);
  manager.start(options.tickMs ?? 1000, options.active);
  logger.info({ channels: Object.keys(config.channels), resumed }, 'alerting started');
  // resume() skips what this manager already follows, so re-reading only adopts strays.
  const adopt = options.adoptMs
    ? setInterval(() => void manager.resume().catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'alert history not re-read')), options.adoptMs)
    : undefined;
  // Events are handled one at a time, in arrival order: a success must not overtake the failure before it.
  let chain: Promise<void> = Promise.resolve();
  const handle = async (data: Uint8Array): Promise<void> => {
    let event;
    try {
      event = cloudEventSchema.parse(JSON.parse(Buffer.from(data).toString('utf8')));
      const def = findEventByType(event.type);
      if (!def) return;
      event = { ...event, data: def.data.parse(event.data) };
    } catch {
      return; // Not a Tresor event this build knows: nothing to alert on.
    }
    await rules.handle(event).catch((err: unknown) => logger.warn({ err: (err as Error).message, type: event.type }, 'alert rule failed'));
  };
  return {
    manager,
    onEvent(data) {
      chain = chain.then(() => handle(data));
      return chain;
    },
    async stop() {
      clearInterval(adopt);
      await chain;
      await manager.stop();
    },
  };
}
