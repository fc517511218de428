import { hostname as osHostname } from 'node:os';

/** Facilities (RFC 5424 §6.2.1) Tresor uses: security/authorization messages and local use. */
export const SyslogFacility = { auth: 4, authpriv: 10, local0: 16, local4: 20 } as const;
/** Severities (RFC 5424 §6.2.1). */
export const SyslogSeverity = { emergency: 0, alert: 1, critical: 2, error: 3, warning: 4, notice: 5, info: 6, debug: 7 } as const;

export interface SyslogMessage {
  readonly facility: number;
  readonly severity: number;
  readonly time: Date | string;
  readonly hostname?: string;
  readonly appName: string;
  readonly procId?: string;
  readonly msgId?: string;
  /** SD-ID -> params (e.g. `tresor@32473` -> { seq: '4' }). */
  readonly structuredData?: Record<string, Record<string, string>>;
  readonly message?: string;
}

const NIL = '-';

/** One RFC 5424 syslog message (without transport framing). */
export function formatRfc5424(m: SyslogMessage): string {
  const pri = m.facility * 8 + m.severity;
  const time = typeof m.time === 'string' ? m.time : m.time.toISOString();
  const header = [
    `<${pri}>1`,
    time,
    token(m.hostname ?? osHostname(), 255),
    token(m.appName, 48),
    token(m.procId ?? String(process.pid), 128),
    token(m.msgId, 32),
  ].join(' ');
  return `${header} ${structured(m.structuredData)}${m.message ? ` ${m.message}` : ''}`;
}

/** Header fields are printable US-ASCII without spaces, or `-`. */
function token(value: string | undefined, max: number): string {
  if (!value) return NIL;
  const clean = value.replace(/[^\x21-\x7e]/g, '_').slice(0, max);
  return clean || NIL;
}

function structured(sd: Record<string, Record<string, string>> | undefined): string {
  if (!sd || Object.keys(sd).length === 0) return NIL;
  return Object.entries(sd)
    .map(([id, params]) => `[${sdName(id)}${Object.entries(params).map(([k, v]) => ` ${sdName(k)}="${v.replace(/["\\\]]/g, (c) => `\\${c}`)}"`).join('')}]`)
    .join('');
}

/** SD-NAME: printable US-ASCII except `=`, space, `]` and `"`, at most 32. */
function sdName(name: string): string {
  return name.replace(/[^\x21-\x7e]|[= \]"]/g, '_').slice(0, 32);
}
