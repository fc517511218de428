import { connect, createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';

/**
 * What the proxy does with connections:
 * - `pass`: forwards both ways (after `latencyMs` per chunk, if set);
 * - `reset`: answers every new connection with a TCP reset;
 * - `blackhole`: accepts and reads, forwards nothing and never answers (a dead route, a full queue).
 */
export type FaultMode = 'pass' | 'reset' | 'blackhole';

export interface FaultProxy {
  /** 127.0.0.1:<port>, to put in a client's configuration instead of the real endpoint. */
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  mode: FaultMode;
  /** Delay added to every chunk, each way, in `pass` mode. */
  latencyMs: number;
  /** Connections accepted, reset and black-holed so far. */
  readonly stats: { accepted: number; reset: number; blackholed: number; bytesForwarded: number };
  /** Resets every open connection now (a mid-transfer failure), whatever the mode. */
  resetOpen(): void;
  close(): Promise<void>;
}

/**
 * A fault-injecting TCP proxy for tests: put it between a client and one dependency (a storage
 * endpoint, NATS, MongoDB) and switch its mode while a job runs.
 */
export async function startFaultProxy(target: { host: string; port: number }, initial: FaultMode = 'pass'): Promise<FaultProxy> {
  const open = new Set<Socket>();
  const stats = { accepted: 0, reset: 0, blackholed: 0, bytesForwarded: 0 };
  const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  /** Copies `from` to `to`, chunk by chunk, each after the proxy's current latency. */
  const forward = (from: Socket, to: Socket) => {
    let chain = Promise.resolve();
    from.on('data', (chunk: Buffer) => {
      const latency = proxy.latencyMs;
      if (latency > 0) from.pause();
      chain = chain.then(async () => {
        if (latency > 0) await delay(latency);
        if (!to.destroyed) {
          stats.bytesForwarded += chunk.length;
          to.write(chunk);
        }
        if (latency > 0) from.resume();
      });
    });
    from.on('end', () => void chain.then(() => to.end()));
  };

  const server: Server = createServer((client) => {
    stats.accepted++;
    open.add(client);
    client.on('close', () => open.delete(client));
    client.on('error', () => undefined);
    if (proxy.mode === 'reset') {
      stats.reset++;
      client.resetAndDestroy();
      return;
    }
    if (proxy.mode === 'blackhole') {
      stats.blackholed++;
      client.on('data', () => undefined);
      return;
    }
    const upstream = connect(target.port, target.host);
    open.add(upstream);
    upstream.on('close', () => {
      open.delete(upstream);
      if (!client.destroyed) client.destroy();
    });
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    forward(client, upstream);
    forward(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  const proxy: FaultProxy = {
    port,
    url: `http://127.0.0.1:${port}`,
    mode: initial,
    latencyMs: 0,
    stats,
    resetOpen() {
      for (const socket of open) {
        if (!socket.destroyed) socket.resetAndDestroy();
      }
    },
    async close() {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return proxy;
}
