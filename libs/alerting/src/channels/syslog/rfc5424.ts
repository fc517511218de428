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
 * One RFC 5424 message for one alert:
 * `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [tresor@32473 k="v" …] BOM MSG`, MSGID
 * `ALERT_RAISED`, `ALERT_ESCALATED`, `ALERT_REMINDER` or `ALERT_RESOLVED`.
 */
export function formatRfc5424(item: NotificationItem, h: SyslogHeader): string {
  const a = item.alert;
  const pri = h.facility * 8 + syslogSeverity(item.kind, a.level);
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
  const sd = `[${SD_ID}${params
    .filter((p): p is [string, string] => p[1] !== undefined)
    .map(([k, v]) => ` ${k}="${sdEscape(v)}"`)
    .join('')}]`;
  const msgId = `ALERT_${item.kind.toUpperCase()}`;
  return `<${pri}>1 ${h.timestamp} ${field(h.hostname, 255)} ${field(h.appName, 48)} ${field(h.procId, 128)} ${msgId} ${sd} ${BOM}${itemLine(item)}`;
}

/** PARAM-VALUE escaping of RFC 5424 §6.3.3: `"`, `\` and `]` get a backslash. */
export function sdEscape(v: string): string {
  return v.replace(/["\\\]]/g, (c) => `\\${c}`);
}

/** A header field: printable US-ASCII without spaces, at most `max` characters, `-` if empty. */
function field(v: string, max: number): string {
  const clean = v.replace(/[^!-~]/g, '').slice(0, max);
  return clean || '-';
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
