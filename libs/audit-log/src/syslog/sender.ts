import { createSocket } from 'node:dgram';
import type { Socket as UdpSocket } from 'node:dgram';
import { isIP, connect as netConnect } from 'node:net';
import type { Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { IoError, UsageError } from '@tresor/errors';

export interface SyslogSenderOptions {
  /** PEM of the CA(s) a `tls://` receiver's certificate must chain to (default: the system's). */
  readonly ca?: string | Buffer;
  readonly timeoutMs?: number;
}

/** Sends framed syslog messages to one receiver. */
export interface SyslogSender {
  readonly url: string;
  /** Resolves once the message is handed to the network (TCP/TLS: written to the connection). */
  send(message: string): Promise<void>;
  close(): Promise<void>;
}

/** Largest UDP datagram sent (RFC 5426 §3.2: receivers should accept 2048 octets; IPv4 allows ~64 KiB). */
const MAX_UDP_BYTES = 64 * 1024 - 512;

/**
 * A syslog sender for `udp://host:port` (RFC 5426, one message per datagram), `tcp://host:port`
 * (RFC 6587 octet counting) or `tls://host:port` (RFC 5425, octet counting over TLS, certificate
 * checked). One connection is kept and re-opened after an error.
 */
export function createSyslogSender(url: string, options: SyslogSenderOptions = {}): SyslogSender {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`syslog URL ${url} is not a URL: use udp://host:port, tcp://host:port or tls://host:port`);
  }
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  const port = Number(parsed.port || (parsed.protocol === 'tls:' ? 6514 : 514));
  if (!host) throw new UsageError(`syslog URL ${url} has no host`);
  switch (parsed.protocol) {
    case 'udp:':
      return udpSender(url, host, port);
    case 'tcp:':
    case 'tls:':
      return streamSender(url, host, port, parsed.protocol === 'tls:', options);
    default:
      throw new UsageError(`syslog URL ${url}: unsupported scheme ${parsed.protocol} (use udp://, tcp:// or tls://)`);
  }
}

function udpSender(url: string, host: string, port: number): SyslogSender {
  let socket: UdpSocket | undefined;
  return {
    url,
    send(message) {
      const bytes = Buffer.from(message, 'utf8');
      if (bytes.length > MAX_UDP_BYTES) return Promise.reject(new UsageError(`syslog message of ${bytes.length} bytes is too large for UDP; use tcp:// or tls://`));
      socket ??= createSocket(isIP(host) === 6 ? 'udp6' : 'udp4');
      return new Promise((resolve, reject) =>
        socket!.send(bytes, port, host, (err) => (err ? reject(new IoError(`cannot send syslog to ${url}: ${err.message}`, { cause: err })) : resolve())),
      );
    },
    close: () => new Promise((resolve) => (socket ? socket.close(() => resolve()) : resolve())),
  };
}

function streamSender(url: string, host: string, port: number, tls: boolean, options: SyslogSenderOptions): SyslogSender {
  let socket: Promise<Socket> | undefined;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const open = (): Promise<Socket> =>
    new Promise((resolve, reject) => {
      const s = tls
        ? tlsConnect({ host, port, ...(options.ca ? { ca: options.ca } : {}), ...(isIP(host) ? {} : { servername: host }) })
        : netConnect({ host, port });
      const fail = (err: Error): void => {
        socket = undefined;
        s.destroy();
        reject(new IoError(`cannot connect to syslog receiver ${url}: ${err.message}`, { cause: err }));
      };
      s.setTimeout(timeoutMs, () => fail(new Error('timed out')));
      s.once('error', fail);
      s.once(tls ? 'secureConnect' : 'connect', () => {
        s.off('error', fail);
        s.setTimeout(0);
        // A later error or close drops the connection; the next send opens a new one.
        s.on('error', () => (socket = undefined));
        s.on('close', () => (socket = undefined));
        resolve(s);
      });
    });
  return {
    url,
    async send(message) {
      socket ??= open();
      const s = await socket;
      const bytes = Buffer.from(message, 'utf8');
      const frame = Buffer.concat([Buffer.from(`${bytes.length} `, 'ascii'), bytes]);
      await new Promise<void>((resolve, reject) =>
        s.write(frame, (err) => {
          if (!err) return resolve();
          socket = undefined;
          reject(new IoError(`cannot send syslog to ${url}: ${err.message}`, { cause: err }));
        }),
      );
    },
    async close() {
      const pending = socket;
      socket = undefined;
      const s = await pending?.catch(() => undefined);
      if (!s) return;
      await new Promise<void>((resolve) => {
        s.once('close', () => resolve());
        s.end();
      });
    },
  };
}
