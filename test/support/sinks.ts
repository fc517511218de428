/**
 * In-process receivers for notification tests: an HTTP sink (webhooks, Slack incoming webhooks)
 * and a syslog sink (UDP, TCP and TLS). They listen on 127.0.0.1, on a free port, for one test, and
 * record what arrives. Not servers of test/infra/up: start them in the test and close them after.
 */
import { createServer as createHttpServer, type IncomingHttpHeaders } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { createSocket } from 'node:dgram';
import { createServer as createTlsServer } from 'node:tls';

async function waitUntil<T>(read: () => T[], count: number, timeoutMs: number, what: string): Promise<T[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = read();
    if (got.length >= count) return got;
    if (Date.now() > deadline)
      throw new Error(`expected ${count} ${what} within ${timeoutMs} ms, got ${got.length}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The body parsed as JSON, if it is JSON. */
  json?: unknown;
}

export interface HttpSink {
  /** Base URL, e.g. http://127.0.0.1:PORT */
  url: string;
  requests: RecordedRequest[];
  /** Status (and body) for the next requests; default 200 `ok`. Use it to test retries. */
  respondWith(status: number, body?: string): void;
  waitForRequests(count?: number, timeoutMs?: number): Promise<RecordedRequest[]>;
  close(): Promise<void>;
}

/** An HTTP receiver that records every request (webhook, Slack). */
export async function startHttpSink(): Promise<HttpSink> {
  const requests: RecordedRequest[] = [];
  let status = 200;
  let reply = 'ok';
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      let json: unknown;
      try {
        json = body.length ? JSON.parse(body.toString('utf8')) : undefined;
      } catch {
        json = undefined;
      }
      requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, json });
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(reply);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    respondWith(s, b = '') {
      status = s;
      reply = b;
    },
    waitForRequests: (count = 1, timeoutMs = 10_000) =>
      waitUntil(() => requests, count, timeoutMs, 'HTTP request(s)'),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export type SyslogTransport = 'udp' | 'tcp' | 'tls';

export interface SyslogMessage {
  transport: SyslogTransport;
  raw: string;
  /** PRI value (facility * 8 + severity), if the message starts with `<PRI>`. */
  pri?: number;
}

export interface SyslogSink {
  host: string;
  port: number;
  transport: SyslogTransport;
  messages: SyslogMessage[];
  waitForMessages(count?: number, timeoutMs?: number): Promise<SyslogMessage[]>;
  close(): Promise<void>;
}

function parse(transport: SyslogTransport, raw: string): SyslogMessage {
  const m = /^<(\d{1,3})>/.exec(raw);
  return { transport, raw, pri: m ? Number(m[1]) : undefined };
}

/**
 * A syslog receiver. UDP: one datagram = one message. TCP: RFC 6587 framing, both octet-counting
 * (`LEN SP MSG`) and newline-terminated messages. TLS (RFC 5425): the same framing over TLS with
 * the certificate and key given (e.g. test/infra's, whose CA is TRESOR_TEST_TLS_CA_FILE).
 */
export async function startSyslogSink(transport: SyslogTransport = 'udp', tls?: { cert: string | Buffer; key: string | Buffer }): Promise<SyslogSink> {
  const messages: SyslogMessage[] = [];
  const common = {
    host: '127.0.0.1',
    transport,
    messages,
    waitForMessages: (count = 1, timeoutMs = 10_000) =>
      waitUntil(() => messages, count, timeoutMs, 'syslog message(s)'),
  };
  if (transport === 'udp') {
    const socket = createSocket('udp4');
    socket.on('message', (msg) => messages.push(parse('udp', msg.toString('utf8'))));
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
    return {
      ...common,
      port: socket.address().port,
      close: () => new Promise<void>((r) => socket.close(() => r())),
    };
  }
  const sockets = new Set<Socket>();
  if (transport === 'tls' && !tls) throw new Error('a TLS syslog sink needs { cert, key }');
  const onConnection = (sock: Socket): void => {
    sockets.add(sock);
    let buf = '';
    sock.on('data', (d: Buffer) => {
      buf += d.toString('utf8');
      for (;;) {
        const counted = /^(\d+) /.exec(buf);
        if (counted) {
          const len = Number(counted[1]);
          const start = counted[0].length;
          if (Buffer.byteLength(buf.slice(start)) < len) break;
          const body = Buffer.from(buf.slice(start)).subarray(0, len).toString('utf8');
          messages.push(parse(transport, body));
          buf = buf.slice(start + body.length);
          continue;
        }
        const nl = buf.indexOf('\n');
        if (nl < 0) break;
        const line = buf.slice(0, nl).replace(/\r$/, '');
        buf = buf.slice(nl + 1);
        if (line) messages.push(parse(transport, line));
      }
    });
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => sockets.delete(sock));
  };
  const server = transport === 'tls' ? createTlsServer({ cert: tls!.cert, key: tls!.key }, onConnection) : createTcpServer(onConnection);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    ...common,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
