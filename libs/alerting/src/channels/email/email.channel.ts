import { readFile } from 'node:fs/promises';
import nodemailer from 'nodemailer';
import type { Transporter } from 'nodemailer';
import { IoError, UsageError } from '@tresor/errors';
import { notificationText, notificationTitle } from '../../render.js';
import { resolveSecret } from '@tresor/secrets';
import type { AlertChannel, Notification } from '../channel.js';
import type { EmailChannelConfig } from './config.js';

/** Sends each notification as one plain-text mail over SMTP (nodemailer). */
export class EmailChannel implements AlertChannel {
  readonly type = 'email';
  private transport: Transporter | undefined;

  constructor(
    readonly name: string,
    private readonly config: EmailChannelConfig,
  ) {}

  async send(n: Notification): Promise<void> {
    const transport = await this.open();
    try {
      await transport.sendMail({
        from: this.config.from,
        to: this.config.to,
        subject: notificationTitle(n, this.config.subjectPrefix),
        text: notificationText(n),
        headers: { 'X-Tresor-Notification': n.id },
      });
    } catch (err) {
      // nodemailer's messages carry the server's reply, never the credentials we sent.
      throw new IoError(`alert channel ${this.name}: SMTP ${this.config.host}:${this.config.port} refused the mail: ${(err as Error).message}`, { cause: err });
    }
  }

  async close(): Promise<void> {
    this.transport?.close();
    this.transport = undefined;
  }

  private async open(): Promise<Transporter> {
    if (this.transport) return this.transport;
    const c = this.config;
    let ca: Buffer | undefined;
    if (c.caFile) {
      try {
        ca = await readFile(c.caFile);
      } catch (err) {
        throw new UsageError(`alert channel ${this.name}: cannot read caFile ${c.caFile} (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`);
      }
    }
    const auth = c.auth ? { user: c.auth.user, pass: await resolveSecret(c.auth.password, `alert channel ${this.name} SMTP password`) } : undefined;
    this.transport = nodemailer.createTransport({
      host: c.host,
      port: c.port,
      secure: c.security === 'tls',
      requireTLS: c.security === 'starttls',
      ignoreTLS: c.security === 'none',
      ...(auth ? { auth } : {}),
      ...(ca ? { tls: { ca } } : {}),
      connectionTimeout: c.timeoutMs,
      greetingTimeout: c.timeoutMs,
      socketTimeout: c.timeoutMs,
      // nodemailer logs nothing unless asked; keep it so, its debug output would include AUTH lines.
      logger: false,
      debug: false,
    });
    return this.transport;
  }
}
