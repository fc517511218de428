import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { need } from '../../../../../test/support/infra.js';
import { startSyslogSink, type SyslogSink } from '../../../../../test/support/sinks.js';
import { syslogChannelConfigSchema } from './config.js';
import { SyslogChannel } from './syslog.channel.js';
import { truncateUtf8 } from './rfc5424.js';
import { sampleNotification } from '../test-notification.js';

const NOW = Date.parse('2026-11-26T08:01:00.123Z');
/** RFC 5424: <PRI>VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP SD [SP MSG]. */
const RFC5424 = /^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) (\[.*\]|-)(?: \uFEFF(.*))?$/s;

describe('SyslogChannel', () => {
  let sink: SyslogSink | undefined;
  afterEach(async () => sink?.close());

  for (const transport of ['udp', 'tcp'] as const) {
    it(`sends RFC 5424 messages over ${transport}`, async () => {
      sink = await startSyslogSink(transport);
      const channel = new SyslogChannel(
        'siem',
        syslogChannelConfigSchema.parse({ type: 'syslog', host: sink.host, port: sink.port, transport, facility: 'local3', hostname: 'tresor-mon-1' }),
        { clock: () => NOW },
      );
      await channel.send(sampleNotification('raised'));
      await channel.send(sampleNotification('resolved'));
      const [raised, resolved] = await sink.waitForMessages(2);
      const m = RFC5424.exec(raised!.raw);
      expect(m, raised!.raw).not.toBeNull();
      const [, pri, timestamp, host, app, procId, msgId, sd, msg] = m!;
      expect(Number(pri)).toBe(19 * 8 + 2); // local3, critical
      expect(raised!.pri).toBe(154);
      expect(timestamp).toBe('2026-11-26T08:01:00.123Z');
      expect([host, app, procId, msgId]).toEqual(['tresor-mon-1', 'tresor', String(process.pid), 'ALERT_RAISED']);
      expect(sd).toMatch(/^\[tresor@32473 id="6f1c2b8e-[^"]+" fingerprint="backup-failed:[0-9a-f]{12}" rule="backup-failed" level="CRITICAL" state="firing" source="\/etc\/keys" raised="2026-11-26T08:00:00.000Z"\]$/);
      expect(msg).toBe('FIRING CRITICAL backup-failed /etc/keys: backup of /etc/keys failed: cannot read /etc/keys/a.key: EACCES');
      const r = RFC5424.exec(resolved!.raw)!;
      expect(Number(r[1])).toBe(19 * 8 + 5); // notice
      expect(r[6]).toBe('ALERT_RESOLVED');
      expect(r[7]).toContain('state="resolved"');
      expect(r[7]).toContain('resolved="2026-11-26T08:10:00.000Z"');
    });
  }

  it('sends over TLS to a receiver whose certificate chains to the configured CA', async () => {
    const caFile = need('ftp', 'TRESOR_TEST_TLS_CA_FILE');
    sink = await startSyslogSink('tls', { cert: readFileSync(caFile), key: readFileSync(join(dirname(caFile), 'key.pem')) });
    const config = { type: 'syslog', host: sink.host, port: sink.port, transport: 'tls' };
    await new SyslogChannel('siem', syslogChannelConfigSchema.parse({ ...config, caFile })).send(sampleNotification('raised'));
    const [msg] = await sink.waitForMessages(1);
    expect(msg!.raw).toMatch(RFC5424);
    expect(msg!.raw).toContain('ALERT_RAISED');
    // Without the CA the receiver's certificate is not trusted: nothing is sent.
    await expect(new SyslogChannel('siem', syslogChannelConfigSchema.parse(config)).send(sampleNotification('raised'))).rejects.toThrow(/alert channel siem: syslog tls:/);
    expect(sink.messages).toHaveLength(1);
  });

  it('escapes structured-data values and cuts datagrams on a character boundary', async () => {
    expect(truncateUtf8('ab€', 4).toString()).toBe('ab');
    sink = await startSyslogSink('udp');
    const channel = new SyslogChannel('siem', syslogChannelConfigSchema.parse({ type: 'syslog', host: sink.host, port: sink.port }));
    await channel.send(sampleNotification('raised', { source: '/k"eys]', summary: 'é'.repeat(3000) }));
    const [msg] = await sink.waitForMessages(1);
    expect(Buffer.byteLength(msg!.raw)).toBeLessThanOrEqual(2048);
    expect(msg!.raw).toContain('source="/k\\"eys\\]"');
    expect(msg!.raw).not.toContain('\uFFFD');
  });
});
