import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { AuditEntry } from '@tresor/contracts';
import { IoError } from '@tresor/errors';
import { describe, expect, it, onTestFinished } from 'vitest';
import { need } from '../../../../test/support/infra.js';
import { startSyslogSink } from '../../../../test/support/sinks.js';
import type { SyslogTransport } from '../../../../test/support/sinks.js';
import { AUDIT_SD_ID, exportSyslog } from '../export/exporters.js';
import { sealEntry, GENESIS_HASH } from '../entry.js';
import { formatRfc5424, SyslogFacility, SyslogSeverity } from './rfc5424.js';
import { createSyslogSender } from './sender.js';

/** RFC 5424 §6: HEADER (PRI VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID) SP STRUCTURED-DATA [SP MSG]. */
const RFC5424 = /^<(\d{1,3})>1 (\S+) (\S{1,255}) (\S{1,48}) (\S{1,128}) (\S{1,32}) (-|(?:\[[^\]\\]*(?:\\.[^\]\\]*)*\])+)(?: (.*))?$/s;

function entries(n: number): AuditEntry[] {
  const out: AuditEntry[] = [];
  for (let i = 1; i <= n; i += 1) {
    const input = { actor: { user: 'aude.auditor', roles: ['auditor'], ip: null, userAgent: null }, action: 'restore.request', target: `/srv/r${i}`, outcome: i === 2 ? ('denied' as const) : ('success' as const) };
    out.push(sealEntry(input, i, out[i - 2]?.hash ?? GENESIS_HASH, new Date('2026-11-26T09:00:00.000Z')));
  }
  return out;
}

async function* each<T>(items: T[]): AsyncIterable<T> {
  yield* items;
}

function tlsMaterial(): { ca: Buffer; cert: Buffer; key: Buffer } {
  const caFile = need('ftp', 'TRESOR_TEST_TLS_CA_FILE');
  return { ca: readFileSync(caFile), cert: readFileSync(caFile), key: readFileSync(join(dirname(caFile), 'key.pem')) };
}

describe('RFC 5424 formatting', () => {
  it('writes header, structured data with escapes, and the message', () => {
    const line = formatRfc5424({
      facility: SyslogFacility.authpriv,
      severity: SyslogSeverity.warning,
      time: '2026-11-26T09:00:00.000Z',
      hostname: 'host one',
      appName: 'tresor',
      procId: '42',
      msgId: 'keys.rotate',
      structuredData: { 'x@32473': { note: 'a "quoted" \\ ]bracket' } },
      message: 'hello',
    });
    expect(line).toBe('<84>1 2026-11-26T09:00:00.000Z host_one tresor 42 keys.rotate [x@32473 note="a \\"quoted\\" \\\\ \\]bracket"] hello');
    expect(RFC5424.test(line)).toBe(true);
  });
});

describe.each(['udp', 'tcp', 'tls'] as SyslogTransport[])('syslog export over %s', (transport) => {
  it('delivers every entry to a real receiver as an RFC 5424 message', async () => {
    const tls = transport === 'tls' ? tlsMaterial() : undefined;
    const sink = await startSyslogSink(transport, tls);
    onTestFinished(() => sink.close());
    const sender = createSyslogSender(`${transport}://127.0.0.1:${sink.port}`, tls ? { ca: tls.ca } : {});
    onTestFinished(() => sender.close());
    const sent = entries(3);
    expect(await exportSyslog(each(sent), sender, { hostname: 'tresor-host' })).toBe(3);
    const got = await sink.waitForMessages(3);
    const byseq = new Map<number, string>();
    for (const m of got) {
      const match = RFC5424.exec(m.raw);
      expect(match, m.raw).not.toBeNull();
      const [, pri, time, host, app, , msgId, sd, msg] = match!;
      const entry = JSON.parse(msg!) as AuditEntry;
      byseq.set(entry.seq, m.raw);
      expect(entry).toEqual(sent[entry.seq - 1]);
      expect(Number(pri)).toBe(SyslogFacility.authpriv * 8 + (entry.outcome === 'denied' ? SyslogSeverity.warning : SyslogSeverity.info));
      expect([time, host, app, msgId]).toEqual([entry.time, 'tresor-host', 'tresor-audit', 'restore.request']);
      expect(sd).toContain(`[${AUDIT_SD_ID} seq="${entry.seq}" hash="${entry.hash}"`);
    }
    expect([...byseq.keys()].sort()).toEqual([1, 2, 3]);
  });
});

describe('syslog over TLS', () => {
  it('refuses a receiver whose certificate does not chain to the given CA', async () => {
    const tls = tlsMaterial();
    const sink = await startSyslogSink('tls', tls);
    onTestFinished(() => sink.close());
    const sender = createSyslogSender(`tls://127.0.0.1:${sink.port}`);
    onTestFinished(() => sender.close());
    await expect(sender.send('<86>1 - - - - - - x')).rejects.toBeInstanceOf(IoError);
    expect(sink.messages).toHaveLength(0);
  });
});
