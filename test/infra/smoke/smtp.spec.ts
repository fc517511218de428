import { describe, expect, it, onTestFinished } from 'vitest';
import nodemailer from 'nodemailer';
import { smtpMailbox, type SmtpMailbox } from '../../support/infra.js';

describe('SMTP sink through nodemailer', () => {
  it('delivers over STARTTLS and reads the message back', async () => {
    const box: SmtpMailbox = await smtpMailbox();
    onTestFinished(() => box.cleanup());
    const transport = nodemailer.createTransport({
      host: box.host,
      port: box.port,
      secure: false,
      requireTLS: true,
      tls: box.ca ? { ca: box.ca } : {},
      auth: { user: 'tresor-monitoring', pass: 'any' },
    });
    try {
      const info = await transport.sendMail({
        from: 'Tresor <alerts@tresor.test>',
        to: box.address,
        subject: 'Backup job failed: payments-hsm',
        text: 'Job 42 failed: storage unreachable.',
        attachments: [{ filename: 'report.json', content: '{"job":42}' }],
      });
      expect(info.accepted).toEqual([box.address]);
    } finally {
      transport.close();
    }
    const [mail] = await box.waitForMessages(1);
    expect(mail!.subject).toBe('Backup job failed: payments-hsm');
    expect(mail!.text.trim()).toBe('Job 42 failed: storage unreachable.');
    expect(mail!.envelope).toEqual({ from: 'alerts@tresor.test', to: [box.address] });
    expect(mail!.secure).toBe(true);
    expect(mail!.user).toBe('tresor-monitoring');
    expect(mail!.attachments).toEqual([
      { filename: 'report.json', contentType: 'application/json', size: 10 },
    ]);
  });
});
