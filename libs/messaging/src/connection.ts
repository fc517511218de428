import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from './logger.js';

export interface ConnectOptions {
  /** Comma-separated URLs, e.g. `nats://n1:4222,nats://n2:4222`. */
  readonly servers: string;
  readonly name: string;
  readonly logger: Logger;
}

/** Connects with endless reconnects (a restarted server is picked up again), logging status changes. */
export async function connectNats(options: ConnectOptions): Promise<NatsConnection> {
  const nc = await connect({
    servers: options.servers.split(',').map((s) => s.trim()),
    name: options.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    waitOnFirstConnect: true,
    pingInterval: 5_000,
  });
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === 'reconnect' || status.type === 'disconnect' || status.type === 'error') {
        options.logger.warn({ nats: status.type, server: 'server' in status ? status.server : undefined }, `nats ${status.type}`);
      }
    }
  })();
  return nc;
}
