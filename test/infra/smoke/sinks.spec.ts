import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startHttpSink, startSyslogSink } from '../../support/sinks.js';

describe('in-process notification sinks', () => {
  it('HTTP sink records a webhook and can answer with an error', async () => {
    const sink = await startHttpSink();
    try {
      const ok = await fetch(`${sink.url}/hooks/slack`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: 'backup failed' }),
      });
      expect(ok.status).toBe(200);
      sink.respondWith(503, 'busy');
      expect((await fetch(`${sink.url}/hooks/slack`, { method: 'POST', body: '{}' })).status).toBe(503);
      const reqs = await sink.waitForRequests(2);
      expect(reqs[0]).toMatchObject({
        method: 'POST',
        path: '/hooks/slack',
        json: { text: 'backup failed' },
      });
    } finally {
      await sink.close();
    }
  });

  it('syslog sink receives over UDP and TCP (octet counting and newline framing)', async () => {
    const udp = await startSyslogSink('udp');
    const tcp = await startSyslogSink('tcp');
    try {
      const sock = createSocket('udp4');
      await new Promise<void>((r) =>
        sock.send('<134>1 - host tresor - - - udp hello', udp.port, '127.0.0.1', () => r()),
      );
      sock.close();
      expect((await udp.waitForMessages(1))[0]).toMatchObject({
        pri: 134,
        raw: '<134>1 - host tresor - - - udp hello',
      });

      const m1 = '<131>1 - host tresor - - - counted';
      await new Promise<void>((r) => {
        const c = connect(tcp.port, '127.0.0.1', () =>
          c.end(`${Buffer.byteLength(m1)} ${m1}<132>1 - host tresor - - - line\n`, () => r()),
        );
      });
      const got = await tcp.waitForMessages(2);
      expect(got.map((m) => m.pri)).toEqual([131, 132]);
    } finally {
      await udp.close();
      await tcp.close();
    }
  });
});
