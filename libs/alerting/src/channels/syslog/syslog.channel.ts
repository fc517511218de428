import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { createSyslogSender, formatRfc5424 } from '@tresor/audit-log/syslog';
import { IoError } from '@tresor/errors';
import type { Clock } from '../../manager.js';
import type { AlertChannel, Notification } from '../channel.js';
import type { SyslogChannelConfig } from './config.js';
import { FACILITIES } from './config.js';
import { MAX_UDP_BYTES, alertSyslogMessage, truncateUtf8 } from './rfc5424.js';

/**
 * Sends one RFC 5424 message per alert of a notification over UDP, TCP or TLS, through the same
 * syslog sender the audit log exports with.
 */
export class SyslogChannel implements AlertChannel {
  readonly type = 'syslog';

  constructor(
    readonly name: string,
    private readonly config: SyslogChannelConfig,
    private readonly options: { clock?: Clock } = {},
  ) {}

  async send(n: Notification): Promise<void> {
    const c = this.config;
    const header = {
      facility: FACILITIES[c.facility],
      hostname: c.hostname ?? hostname(),
      appName: c.appName,
      procId: String(process.pid),
      timestamp: new Date((this.options.clock ?? Date.now)()).toISOString(),
    };
    const host = c.host.includes(':') ? `[${c.host}]` : c.host;
    const where = `alert channel ${this.name}: syslog ${c.transport}://${c.host}:${c.port}`;
    try {
      const ca = c.caFile ? await readFile(c.caFile) : undefined;
      const sender = createSyslogSender(`${c.transport}://${host}:${c.port}`, { timeoutMs: c.timeoutMs, ...(ca ? { ca } : {}) });
      try {
        for (const item of n.items) {
          const message = formatRfc5424(alertSyslogMessage(item, header));
          // UDP receivers need only take 2048 octets (RFC 5426): cut rather than lose the datagram.
          await sender.send(c.transport === 'udp' ? truncateUtf8(message, MAX_UDP_BYTES).toString('utf8') : message);
        }
      } finally {
        await sender.close();
      }
    } catch (err) {
      throw new IoError(`${where}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
    }
  }
}
