import { afterEach, describe, expect, it } from 'vitest';
import { startHttpSink, type HttpSink, type RecordedRequest } from '../../../../../test/support/sinks.js';
import { webhookChannelConfigSchema } from './config.js';
import { checkWebhookDelivery, signWebhookBody } from './signature.js';
import { WebhookChannel } from './webhook.channel.js';
import { sampleNotification } from '../test-notification.js';

const SECRET = 'hmac-secret-5d2f8a61e0';
const NOW = Date.parse('2026-11-26T08:01:00Z');

function check(req: RecordedRequest, nowS = NOW / 1000): string | undefined {
  return checkWebhookDelivery({
    secret: SECRET,
    body: req.body,
    signature: req.headers['x-tresor-signature'] as string | undefined,
    timestamp: req.headers['x-tresor-timestamp'] as string | undefined,
    nowS,
  });
}

describe('WebhookChannel (HTTP receiver)', () => {
  let sink: HttpSink | undefined;
  afterEach(async () => {
    await sink?.close();
    delete process.env.TRESOR_TEST_WEBHOOK_SECRET;
  });

  const channel = (overrides: Record<string, unknown> = {}, sleep?: (ms: number) => Promise<void>) =>
    new WebhookChannel(
      'hook',
      webhookChannelConfigSchema.parse({ type: 'webhook', url: `${sink!.url}/tresor/alerts?tenant=a`, secret: { env: 'TRESOR_TEST_WEBHOOK_SECRET' }, initialBackoffMs: 5, ...overrides }),
      { clock: () => NOW, ...(sleep ? { sleep } : {}) },
    );

  it('posts signed JSON that a receiver can verify', async () => {
    sink = await startHttpSink();
    process.env.TRESOR_TEST_WEBHOOK_SECRET = SECRET;
    await channel({ headers: { 'X-Env': 'test' } }).send(sampleNotification('raised'));
    const [req] = await sink.waitForRequests(1);
    expect(req!.path).toBe('/tresor/alerts?tenant=a');
    expect(req!.headers['x-env']).toBe('test');
    expect(req!.headers['x-tresor-timestamp']).toBe(String(NOW / 1000));
    expect(req!.headers['x-tresor-delivery']).toBe('n-raised');
    expect(req!.headers['x-tresor-signature']).toBe(signWebhookBody(SECRET, req!.body));
    expect(req!.headers['x-tresor-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(check(req!)).toBeUndefined();
    expect(req!.json).toMatchObject({
      version: 1,
      deliveryId: 'n-raised',
      timestamp: NOW / 1000,
      group: 'rule=backup-failed',
      alerts: [{ kind: 'raised', rule: 'backup-failed', level: 'CRITICAL', source: '/etc/keys', state: 'firing', details: { jobId: 'job-1' } }],
    });
    expect(req!.body.toString()).not.toContain(SECRET);
  });

  it('lets a receiver refuse forged, altered and replayed deliveries', async () => {
    sink = await startHttpSink();
    process.env.TRESOR_TEST_WEBHOOK_SECRET = SECRET;
    await channel().send(sampleNotification('raised'));
    const [req] = await sink.waitForRequests(1);
    expect(check({ ...req!, body: Buffer.from(req!.body.toString().replace('CRITICAL', 'INFO')) })).toBe('bad signature');
    expect(check({ ...req!, headers: { ...req!.headers, 'x-tresor-timestamp': String(NOW / 1000 + 3600) } }, NOW / 1000 + 3600)).toBe(
      'timestamp header differs from the signed body',
    );
    expect(check(req!, NOW / 1000 + 301)).toBe('timestamp outside tolerance (replay?)');
    expect(check({ ...req!, headers: {} })).toBe('missing signature or timestamp header');
  });

  it('retries a 500 with exponential backoff and then succeeds, resending the same signed bytes', async () => {
    sink = await startHttpSink();
    process.env.TRESOR_TEST_WEBHOOK_SECRET = SECRET;
    sink.respondWith(500, 'boom');
    const delays: number[] = [];
    const sleep = async (ms: number) => {
      delays.push(ms);
      if (delays.length === 2) sink!.respondWith(200, 'ok');
    };
    await channel({ initialBackoffMs: 1000, maxBackoffMs: 60_000 }, sleep).send(sampleNotification());
    expect(sink.requests).toHaveLength(3);
    expect(new Set(sink.requests.map((r) => r.body.toString())).size).toBe(1);
    expect(new Set(sink.requests.map((r) => r.headers['x-tresor-signature'])).size).toBe(1);
    expect(sink.requests.every((r) => check(r) === undefined)).toBe(true);
    // 1 s then 2 s, each with at most 20 % jitter taken off.
    expect(delays[0]).toBeGreaterThanOrEqual(800);
    expect(delays[0]).toBeLessThanOrEqual(1000);
    expect(delays[1]).toBeGreaterThanOrEqual(1600);
    expect(delays[1]).toBeLessThanOrEqual(2000);
  });

  it('gives up after the configured attempts and says so, without URL query or secret', async () => {
    sink = await startHttpSink();
    process.env.TRESOR_TEST_WEBHOOK_SECRET = SECRET;
    sink.respondWith(503);
    const error = (await channel({ attempts: 3 }).send(sampleNotification()).catch((e: Error) => e)) as Error & { code: string };
    expect(sink.requests).toHaveLength(3);
    expect(error.code).toBe('IO');
    expect(error.message).toBe(`alert channel hook (webhook ${sink.url}/tresor/alerts): gave up after 3 attempt(s), last: HTTP 503`);
  });

  it('retries network errors and does not retry a 400', async () => {
    sink = await startHttpSink();
    process.env.TRESOR_TEST_WEBHOOK_SECRET = SECRET;
    const closedUrl = sink.url;
    await sink.close();
    const down = new WebhookChannel('hook', webhookChannelConfigSchema.parse({ type: 'webhook', url: closedUrl, secret: { env: 'TRESOR_TEST_WEBHOOK_SECRET' }, attempts: 2, initialBackoffMs: 5 }));
    await expect(down.send(sampleNotification())).rejects.toThrow(/gave up after 2 attempt\(s\), last: ECONNREFUSED/);
    sink = await startHttpSink();
    sink.respondWith(400, 'bad');
    await expect(channel().send(sampleNotification())).rejects.toThrow(/receiver answered HTTP 400; not retried/);
    expect(sink.requests).toHaveLength(1);
  });
});
