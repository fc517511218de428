import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { infraEnv, smtpMailbox, type SmtpMailbox } from '../../../test/support/infra.js';
import { startHttpSink, startSyslogSink, type HttpSink, type SyslogSink } from '../../../test/support/sinks.js';
import { createChannels } from './channels/factory.js';
import { checkWebhookDelivery } from './channels/webhook/signature.js';
import { parseAlertingConfig } from './config.js';
import { MemoryAlertHistory } from './history/history.js';
import { AlertManager } from './manager.js';

const SMTP_PASSWORD = 'smtp-pw-e2e-91ab3c';
const HMAC_SECRET = 'hmac-e2e-0f3e77d2';
const SLACK_TOKEN = 'slack-token-e2e-55aa';
const START = Date.parse('2026-11-26T09:00:00Z');
const S = 1000;

/** The whole path, config to sinks: one flapping check through every channel type. */
describe('alerting through every channel to the real sinks', () => {
  let mailbox: SmtpMailbox;
  let http: HttpSink;
  let slack: HttpSink;
  let syslog: SyslogSink;
  let down: HttpSink;
  beforeAll(async () => {
    [mailbox, http, slack, syslog, down] = await Promise.all([smtpMailbox(), startHttpSink(), startHttpSink(), startSyslogSink('udp'), startHttpSink()]);
    down.respondWith(500);
    process.env.TRESOR_TEST_E2E_SMTP_PASSWORD = SMTP_PASSWORD;
    process.env.TRESOR_TEST_E2E_HMAC = HMAC_SECRET;
    process.env.TRESOR_TEST_E2E_SLACK_URL = `${slack.url}/services/${SLACK_TOKEN}`;
  });
  afterAll(async () => {
    await Promise.all([mailbox?.cleanup(), http?.close(), slack?.close(), syslog?.close(), down?.close()]);
    for (const v of ['SMTP_PASSWORD', 'HMAC', 'SLACK_URL']) delete process.env[`TRESOR_TEST_E2E_${v}`];
  });

  it('notifies a flapping check once, then once on resolve, on every channel, and leaks no secret', async () => {
    const config = parseAlertingConfig({
      groupWindowMs: 60 * S,
      channels: {
        mail: {
          type: 'email', host: mailbox.host, port: mailbox.port, caFile: infraEnv().TRESOR_TEST_TLS_CA_FILE,
          auth: { user: 'tresor', password: { env: 'TRESOR_TEST_E2E_SMTP_PASSWORD' } }, from: 'tresor@tresor.test', to: [mailbox.address],
        },
        chat: { type: 'slack', url: { env: 'TRESOR_TEST_E2E_SLACK_URL' } },
        hook: { type: 'webhook', url: `${http.url}/hook`, secret: { env: 'TRESOR_TEST_E2E_HMAC' } },
        broken: { type: 'webhook', url: `${down.url}/hook`, secret: { env: 'TRESOR_TEST_E2E_HMAC' }, attempts: 2, initialBackoffMs: 5 },
        siem: { type: 'syslog', host: syslog.host, port: syslog.port },
      },
      routes: [
        { levels: ['WARNING', 'CRITICAL'], channels: ['mail', 'chat', 'hook', 'siem', 'broken'] },
        { levels: ['INFO'], channels: ['siem'] },
      ],
    });
    let now = START;
    const logs: string[] = [];
    const manager = new AlertManager({
      ...config,
      channels: createChannels(config),
      history: new MemoryAlertHistory(),
      clock: () => now,
      logger: { warn: (fields, message) => logs.push(JSON.stringify({ ...fields, message })) },
    });
    const check = { rule: 'backup-failed', level: 'CRITICAL' as const, source: '/etc/keys', summary: 'backup of /etc/keys failed' };
    try {
      await manager.raise(check);
      now = START + 10 * S;
      await manager.resolve(check);
      now = START + 20 * S;
      await manager.raise(check);
      now = START + 60 * S;
      const [first] = await manager.tick();
      expect(first!.results).toMatchObject({ mail: 'ok', chat: 'ok', hook: 'ok', siem: 'ok' });
      expect(first!.results.broken).toMatch(/gave up after 2 attempt/);
      now = START + 120 * S;
      await manager.resolve(check);
      now = START + 150 * S;
      expect(await manager.tick()).toEqual([]);
      now = START + 180 * S;
      const [second] = await manager.tick();
      expect(second!.notification.items.map((i) => i.kind)).toEqual(['resolved']);
    } finally {
      await manager.stop();
    }

    const mails = await mailbox.waitForMessages(2);
    expect(mails.map((m) => m.subject.split(' ').slice(1, 3).join(' '))).toEqual(['FIRING CRITICAL', 'RESOLVED CRITICAL']);
    const hooks = await http.waitForRequests(2);
    expect(hooks.map((r) => (r.json as { alerts: { kind: string }[] }).alerts[0]!.kind)).toEqual(['raised', 'resolved']);
    for (const r of hooks) {
      const verdict = checkWebhookDelivery({
        secret: HMAC_SECRET, body: r.body, signature: r.headers['x-tresor-signature'] as string, timestamp: r.headers['x-tresor-timestamp'] as string,
        nowS: Number(r.headers['x-tresor-timestamp']),
      });
      expect(verdict).toBeUndefined();
    }
    expect((await slack.waitForRequests(2)).map((r) => (r.json as { text: string }).text.split(' ')[1])).toEqual(['FIRING', 'RESOLVED']);
    expect((await syslog.waitForMessages(2)).map((m) => m.raw.split(' ')[5])).toEqual(['ALERT_RAISED', 'ALERT_RESOLVED']);
    // Nothing more arrives: the flaps were absorbed.
    await new Promise((r) => setTimeout(r, 200));
    expect([(await mailbox.messages()).length, http.requests.length, slack.requests.length, syslog.messages.length]).toEqual([2, 2, 2, 2]);

    expect(logs).toHaveLength(2);
    expect(logs[0]).toContain('"channel":"broken"');
    const delivered = [
      ...(await Promise.all(mails.map(async (m) => (await fetch(`${infraEnv().TRESOR_TEST_SMTP_API_URL}/messages/${m.id}.eml`)).text()))),
      ...hooks.map((r) => `${JSON.stringify(r.headers)}${r.body.toString()}`),
      ...slack.requests.map((r) => r.body.toString()),
      ...down.requests.map((r) => `${JSON.stringify(r.headers)}${r.body.toString()}`),
      ...syslog.messages.map((m) => m.raw),
      ...logs,
    ].join('\n');
    for (const secret of [SMTP_PASSWORD, Buffer.from(SMTP_PASSWORD).toString('base64'), HMAC_SECRET, SLACK_TOKEN]) {
      expect(delivered).not.toContain(secret);
    }
  });
});
