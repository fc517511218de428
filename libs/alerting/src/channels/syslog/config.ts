import { z } from 'zod';

/** RFC 5424 facility names and their codes (RFC 5424 §6.2.1). */
export const FACILITIES = {
  kern: 0, user: 1, mail: 2, daemon: 3, auth: 4, syslog: 5, lpr: 6, news: 7, uucp: 8, cron: 9, authpriv: 10, ftp: 11,
  local0: 16, local1: 17, local2: 18, local3: 19, local4: 20, local5: 21, local6: 22, local7: 23,
} as const;

/** A syslog receiver: UDP (RFC 5426), TCP with octet-counting framing (RFC 6587) or TLS (RFC 5425). */
export const syslogChannelConfigSchema = z
  .object({
    type: z.literal('syslog'),
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535).default(514),
    transport: z.enum(['udp', 'tcp', 'tls']).default('udp'),
    /** PEM file of the CA a `tls` receiver's certificate must chain to (default: the system's CAs). */
    caFile: z.string().min(1).optional(),
    facility: z.enum(Object.keys(FACILITIES) as [keyof typeof FACILITIES, ...(keyof typeof FACILITIES)[]]).default('local0'),
    appName: z.string().regex(/^[!-~]{1,48}$/, 'printable ASCII without spaces, at most 48 characters').default('tresor'),
    /** HOSTNAME field; default: this host's name. */
    hostname: z.string().regex(/^[!-~]{1,255}$/).optional(),
    timeoutMs: z.number().int().min(100).default(5000),
  })
  .strict();
export type SyslogChannelConfig = z.infer<typeof syslogChannelConfigSchema>;
