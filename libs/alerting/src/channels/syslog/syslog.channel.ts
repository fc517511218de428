import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { hostname } from 'node:os';
import { IoError } from '@tresor/errors';
import type { Clock } from '../../manager.js';
import type { AlertChannel, Notification } from '../channel.js';
import type { SyslogChannelConfig } from './config.js';
import { FACILITIES } from './config.js';
import { MAX_UDP_BYTES, formatRfc5424, truncateUtf8 } from './rfc5424.js';

/** Sends one RFC 5424 message per alert of a notification, over UDP or TCP. */
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
    const messages = n.items.map((item) => formatRfc5424(item, header));
    const where = `alert channel ${this.name}: syslog ${c.transport}://${c.host}:${c.port}`;
    try {
      if (c.transport === 'udp') await this.sendUdp(messages.map((m) => truncateUtf8(m, MAX_UDP_BYTES)));
      else await this.sendTcp(messages.map((m) => Buffer.from(m, 'utf8')));
    } catch (err) {
      throw new IoError(`${where}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
    }
  }

  private async sendUdp(datagrams: Buffer[]): Promise<void> {
    const socket = createSocket(this.config.host.includes(':') ? 'udp6' : 'udp4');
    try {
      for (const d of datagrams) {
        await new Promise<void>((resolve, reject) => socket.send(d, this.config.port, this.config.host, (err) => (err ? reject(err) : resolve())));
      }
    } finally {
      socket.close();
    }
  }

  /** Octet-counting framing (RFC 6587 §3.4.1): `LEN SP MSG`, safe for messages with newlines. */
  private async sendTcp(messages: Buffer[]): Promise<void> {
    const frames = Buffer.concat(messages.flatMap((m) => [Buffer.from(`${m.length} `), m]));
    await new Promise<void>((resolve, reject) => {
      const socket = connect({ host: this.config.host, port: this.config.port });
      socket.setTimeout(this.config.timeoutMs, () => socket.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
      socket.once('error', reject);
      socket.once('connect', () => socket.end(frames, () => resolve()));
    });
  }
}
