import { afterEach, describe, expect, it } from 'vitest';
import { startHttpSink, type HttpSink } from '../../../../../test/support/sinks.js';
import { slackChannelConfigSchema } from './config.js';
import { SlackChannel } from './slack.channel.js';
import { sampleNotification } from '../test-notification.js';

describe('SlackChannel (HTTP receiver)', () => {
  let sink: HttpSink | undefined;
  afterEach(async () => {
    await sink?.close();
    delete process.env.TRESOR_TEST_SLACK_URL;
  });

  it('posts an incoming-webhook payload with blocks', async () => {
    sink = await startHttpSink();
    const token = 'T000/B000/XXXXslacktoken';
    process.env.TRESOR_TEST_SLACK_URL = `${sink.url}/services/${token}`;
    const channel = new SlackChannel('chat', slackChannelConfigSchema.parse({ type: 'slack', url: { env: 'TRESOR_TEST_SLACK_URL' } }));
    const n = sampleNotification('raised', { summary: 'backup of <x> & y failed' });
    await channel.send(n);
    const [req] = await sink.waitForRequests(1);
    expect(req).toMatchObject({ method: 'POST', path: `/services/${token}` });
    expect(req!.headers['content-type']).toBe('application/json');
    const body = req!.json as { text: string; blocks: { type: string; text?: { type: string; text: string }; elements?: { text: string }[] }[] };
    expect(body.text).toBe('[tresor] FIRING CRITICAL backup-failed /etc/keys: backup of <x> & y failed');
    expect(body.blocks.map((b) => b.type)).toEqual(['header', 'section', 'context']);
    expect(body.blocks[0]!.text).toEqual({ type: 'plain_text', text: body.text, emoji: true });
    expect(body.blocks[1]!.text!.type).toBe('mrkdwn');
    expect(body.blocks[1]!.text!.text).toContain(':rotating_light: *FIRING CRITICAL backup-failed /etc/keys: backup of &lt;x&gt; &amp; y failed*');
    expect(body.blocks[1]!.text!.text).toContain('• jobId: `job-1`');
    expect(body.blocks[2]!.elements![0]!.text).toBe('Tresor notification n-raised · group rule=backup-failed');
  });

  it('keeps a long notification within Slack limits', async () => {
    sink = await startHttpSink();
    process.env.TRESOR_TEST_SLACK_URL = sink.url;
    const one = sampleNotification('resolved', { summary: 'x'.repeat(400) });
    const many = { ...one, items: Array.from({ length: 60 }, () => one.items[0]!) };
    await new SlackChannel('chat', slackChannelConfigSchema.parse({ type: 'slack', url: { env: 'TRESOR_TEST_SLACK_URL' } })).send(many);
    const body = (await sink.waitForRequests(1))[0]!.json as { blocks: { type: string; text?: { text: string }; elements?: { text: string }[] }[] };
    expect(body.blocks).toHaveLength(47);
    expect(body.blocks[0]!.text!.text.length).toBeLessThanOrEqual(150);
    expect(body.blocks[46]!.elements![0]!.text).toContain('15 more not shown');
  });

  it('does not show the webhook URL (a credential) in errors', async () => {
    sink = await startHttpSink();
    sink.respondWith(404, 'no_service');
    process.env.TRESOR_TEST_SLACK_URL = `${sink.url}/services/SECRETTOKEN`;
    const channel = new SlackChannel('chat', slackChannelConfigSchema.parse({ type: 'slack', url: { env: 'TRESOR_TEST_SLACK_URL' } }));
    const error = (await channel.send(sampleNotification()).catch((e: Error) => e)) as Error;
    expect(error.message).toBe('alert channel chat (Slack): receiver answered HTTP 404; not retried');
  });
});
