import type { SyslogMessage } from '@tresor/audit-log/syslog';
import type { AlertLevel } from '../../alert.js';
import type { NotificationItem } from '../channel.js';
import { itemLine } from '../../render.js';

/**
 * SD-ID of Tresor's structured data. 32473 is the enterprise number RFC 5612 reserves for
 * documentation; an operator with its own number can filter on the `tresor@` prefix alone.
 */
export const SD_ID = 'tresor@32473';

/** Largest datagram every RFC 5426 receiver should take; longer messages are cut to it. */
export const MAX_UDP_BYTES = 2048;

const BOM = '\uFEFF';

/** Syslog severity of a notified alert: critical 2, warning 4, info 6; a resolve is notice 5. */
export function syslogSeverity(kind: NotificationItem['kind'], level: AlertLevel): number {
  if (kind === 'resolved') return 5;
  return level === 'CRITICAL' ? 2 : level === 'WARNING' ? 4 : 6;
}

export interface SyslogHeader {
  readonly facility: number;
  readonly hostname: string;
  readonly appName: string;
  readonly procId: string;
  /** RFC 3339 time with fractions, as `Date.toISOString` writes it. */
  readonly timestamp: string;
}

/**
 * The RFC 5424 message for one alert (formatted by the audit log's syslog module, which both
 * share): MSGID `ALERT_RAISED`, `ALERT_ESCALATED`, `ALERT_REMINDER` or `ALERT_RESOLVED`,
 * structured data `[tresor@32473 id=… fingerprint=… rule=… level=… state=… …]`, a BOM and the
 * one-line summary.
 */
export function alertSyslogMessage(item: NotificationItem, h: SyslogHeader): SyslogMessage {
  const a = item.alert;
  const params: [string, string | undefined][] = [
    ['id', a.id],
    ['fingerprint', a.fingerprint],
    ['rule', a.rule],
    ['level', a.level],
    ['state', a.state],
    ['source', a.source],
    ['tenant', a.tenant],
    ['raised', a.raisedAt],
    ['resolved', a.resolvedAt],
  ];
  return {
    facility: h.facility,
    severity: syslogSeverity(item.kind, a.level),
    time: h.timestamp,
    hostname: h.hostname,
    appName: h.appName,
    procId: h.procId,
    msgId: `ALERT_${item.kind.toUpperCase()}`,
    structuredData: { [SD_ID]: Object.fromEntries(params.filter((p): p is [string, string] => p[1] !== undefined)) },
    message: `${BOM}${itemLine(item)}`,
  };
}

/** Cuts a message to `max` UTF-8 bytes without splitting a character. */
export function truncateUtf8(s: string, max: number): Buffer {
  const bytes = Buffer.from(s, 'utf8');
  if (bytes.length <= max) return bytes;
  let end = max;
  // Back off continuation bytes (10xxxxxx) so the cut falls on a character boundary.
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}
