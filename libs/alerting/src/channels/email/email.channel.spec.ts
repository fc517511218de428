import { afterEach, describe, expect, it } from 'vitest';
import { infraEnv, smtpMailbox, type SmtpMailbox } from '../../../../../test/support/infra.js';
import { emailChannelConfigSchema } from './config.js';
import { EmailChannel } from './email.channel.js';
import { sampleNotification } from '../test-notification.js';

const PASSWORD = 'smtp-pw-7c1e9d0a4b';

describe('EmailChannel (SMTP sink)', () => {
  let mailbox: SmtpMailbox | undefined;
  let channel: EmailChannel | undefined;
  afterEach(async () => {
    await channel?.close();
    await mailbox?.cleanup();
    delete process.env.TRESOR_TEST_ALERT_SMTP_PASSWORD;
  });

  it('delivers a notification over STARTTLS with AUTH, and the password is nowhere in the mail', async () => {
    mailbox = await smtpMailbox();
    process.env.TRESOR_TEST_ALERT_SMTP_PASSWORD = PASSWORD;
    const config = emailChannelConfigSchema.parse({
      type: 'email',
      host: mailbox.host,
      port: mailbox.port,
      security: 'starttls',
      caFile: infraEnv().TRESOR_TEST_TLS_CA_FILE,
      auth: { user: 'tresor-alerts', password: { env: 'TRESOR_TEST_ALERT_SMTP_PASSWORD' } },
      from: 'tresor@tresor.test',
      to: [mailbox.address],
    });
    channel = new EmailChannel('ops-mail', config);
    await channel.send(sampleNotification('raised'));
    await channel.send(sampleNotification('resolved'));
    const [raised, resolved] = await mailbox.waitForMessages(2);
    expect(raised).toMatchObject({ secure: true, user: 'tresor-alerts', from: 'tresor@tresor.test' });
    expect(raised!.subject).toBe('[tresor] FIRING CRITICAL backup-failed /etc/keys: backup of /etc/keys failed: cannot read /etc/keys/a.key: EACCES');
    expect(raised!.text).toContain('fingerprint: backup-failed:');
    expect(raised!.text).toContain('jobId: job-1');
    expect(raised!.headers['x-tresor-notification']).toBe('n-raised');
    expect(resolved!.subject).toMatch(/^\[tresor\] RESOLVED CRITICAL backup-failed/);
    expect(resolved!.text).toContain('resolved: 2026-11-26T08:10:00.000Z');
    for (const m of [raised!, resolved!]) {
      const raw = await (await fetch(`${infraEnv().TRESOR_TEST_SMTP_API_URL}/messages/${m.id}.eml`)).text();
      expect(raw).not.toContain(PASSWORD);
      expect(raw).not.toContain(Buffer.from(PASSWORD).toString('base64'));
    }
  });

  it('names the server, not the password, when it cannot deliver', async () => {
    process.env.TRESOR_TEST_ALERT_SMTP_PASSWORD = PASSWORD;
    const config = emailChannelConfigSchema.parse({
      type: 'email',
      host: '127.0.0.1',
      port: 1,
      auth: { user: 'u', password: { env: 'TRESOR_TEST_ALERT_SMTP_PASSWORD' } },
      from: 'tresor@tresor.test',
      to: ['nobody@tresor.test'],
      timeoutMs: 2000,
    });
    channel = new EmailChannel('ops-mail', config);
    const error = await channel.send(sampleNotification()).catch((e: Error) => e);
    expect(error).toMatchObject({ code: 'IO' });
    expect((error as Error).message).toMatch(/^alert channel ops-mail: SMTP 127\.0\.0\.1:1 refused the mail/);
    expect((error as Error).message).not.toContain(PASSWORD);
  });

  it('reports a missing password variable by its name', async () => {
    const config = emailChannelConfigSchema.parse({
      type: 'email', host: '127.0.0.1', auth: { user: 'u', password: { env: 'TRESOR_TEST_ALERT_SMTP_PASSWORD' } }, from: 'a@b.c', to: ['d@e.f'],
    });
    channel = new EmailChannel('ops-mail', config);
    await expect(channel.send(sampleNotification())).rejects.toThrow('alert channel ops-mail SMTP password: environment variable TRESOR_TEST_ALERT_SMTP_PASSWORD is not set or empty');
  });
});
