import type { NotificationItem } from '../channel.js';
import type { AlertChannel, Notification } from '../channel.js';
import { alertFacts, itemLine, notificationTitle } from '../../render.js';
import { resolveSecret } from '@tresor/secrets';
import { postWithRetry } from '../http-post.js';
import type { SlackChannelConfig } from './config.js';

/** Slack allows 50 blocks per message; two are the header and the footer. */
const maxItemBlocks = 45;
/** Slack's limit on a header's plain text. */
const maxHeaderChars = 150;

const emoji: Record<NotificationItem['kind'], string> = {
  raised: ':rotating_light:',
  escalated: ':rotating_light:',
  reminder: ':hourglass:',
  resolved: ':white_check_mark:',
};

/** Posts each notification to a Slack incoming webhook as a Block Kit message. */
export class SlackChannel implements AlertChannel {
  readonly type = 'slack';

  constructor(
    readonly name: string,
    private readonly config: SlackChannelConfig,
  ) {}

  async send(n: Notification): Promise<void> {
    const url = await resolveSecret(this.config.url, `alert channel ${this.name} webhook URL`);
    await postWithRetry(url, JSON.stringify(slackPayload(n)), {
      what: `alert channel ${this.name} (Slack)`,
      timeoutMs: this.config.timeoutMs,
      retry: { attempts: this.config.attempts, initialBackoffMs: this.config.initialBackoffMs, maxBackoffMs: this.config.maxBackoffMs },
    });
  }
}

/** The incoming-webhook body: `text` for notifications and old clients, `blocks` for the message. */
export function slackPayload(n: Notification): { text: string; blocks: unknown[] } {
  const title = notificationTitle(n);
  const shown = n.items.slice(0, maxItemBlocks);
  const blocks: unknown[] = [
    { type: 'header', text: { type: 'plain_text', text: truncate(title, maxHeaderChars), emoji: true } },
    ...shown.map((item) => ({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: truncate(
          `${emoji[item.kind]} *${escape(itemLine(item))}*\n` + alertFacts(item.alert).map(([k, v]) => `• ${escape(k)}: \`${escape(v)}\``).join('\n'),
          3000,
        ),
      },
    })),
  ];
  const more = n.items.length - shown.length;
  blocks.push({
    type: 'context',
    elements: [{ type: 'mrkdwn', text: `Tresor notification ${n.id} · group ${escape(n.group)}${more > 0 ? ` · ${more} more not shown` : ''}` }],
  });
  return { text: title, blocks };
}

/** Slack's mrkdwn needs &, < and > escaped; anything else is shown as typed. */
function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}
