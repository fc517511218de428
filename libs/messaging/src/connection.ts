import { connect, nkeyAuthenticator } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from './logger.js';

export interface ConnectOptions {
  /** Comma-separated URLs, e.g. `nats://n1:4222,nats://n2:4222`. */
  readonly servers: string;
  readonly name: string;
  readonly logger: Logger;
  /** User and password, or an nkey seed (never both); none for an open server. */
  readonly user?: string;
  readonly pass?: string;
  readonly nkeySeed?: string;
  /** TLS: CA to verify the server, and a client certificate for mutual TLS. */
  readonly tls?: { caFile?: string; certFile?: string; keyFile?: string };
}

/** Connects with endless reconnects (a restarted server is picked up again), logging status changes. */
export async function connectNats(options: ConnectOptions): Promise<NatsConnection> {
  const auth = options.nkeySeed
    ? { authenticator: nkeyAuthenticator(new TextEncoder().encode(options.nkeySeed)) }
    : options.user
      ? { user: options.user, pass: options.pass }
      : {};
  const nc = await connect({
    ...auth,
    ...(options.tls ? { tls: { ...(options.tls.caFile ? { caFile: options.tls.caFile } : {}), ...(options.tls.certFile ? { certFile: options.tls.certFile, keyFile: options.tls.keyFile } : {}) } } : {}),
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
