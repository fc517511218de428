import type { Clock } from '../../manager.js';
import { resolveSecret } from '@tresor/secrets';
import type { AlertChannel, Notification } from '../channel.js';
import { describeUrl, postWithRetry } from '../http-post.js';
import type { WebhookChannelConfig } from './config.js';
import { DELIVERY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signWebhookBody } from './signature.js';

/** Version of the webhook body; a receiver refuses versions it does not know. */
export const WEBHOOK_PAYLOAD_VERSION = 1;

/** POSTs each notification as signed JSON, retrying transient failures with exponential backoff. */
export class WebhookChannel implements AlertChannel {
  readonly type = 'webhook';

  constructor(
    readonly name: string,
    private readonly config: WebhookChannelConfig,
    private readonly options: { clock?: Clock; sleep?: (ms: number) => Promise<void> } = {},
  ) {}

  async send(n: Notification): Promise<void> {
    const secret = await resolveSecret(this.config.secret, `alert channel ${this.name} HMAC secret`);
    const timestamp = Math.floor((this.options.clock ?? Date.now)() / 1000);
    // Retries resend the same bytes: one delivery id, one timestamp, so a receiver can de-duplicate.
    const body = JSON.stringify(webhookPayload(n, timestamp));
    await postWithRetry(this.config.url, body, {
      what: `alert channel ${this.name} (webhook ${describeUrl(this.config.url)})`,
      headers: {
        ...this.config.headers,
        [TIMESTAMP_HEADER]: String(timestamp),
        [DELIVERY_HEADER]: n.id,
        [SIGNATURE_HEADER]: signWebhookBody(secret, body),
      },
      timeoutMs: this.config.timeoutMs,
      retry: { attempts: this.config.attempts, initialBackoffMs: this.config.initialBackoffMs, maxBackoffMs: this.config.maxBackoffMs },
      ...(this.options.sleep ? { sleep: this.options.sleep } : {}),
    });
  }
}

/** The signed JSON body; `timestamp` repeats X-Tresor-Timestamp inside what the signature covers. */
export function webhookPayload(n: Notification, timestamp: number) {
  return {
    version: WEBHOOK_PAYLOAD_VERSION,
    deliveryId: n.id,
    timestamp,
    group: n.group,
    createdAt: n.createdAt,
    alerts: n.items.map((i) => ({ kind: i.kind, ...i.alert })),
  };
}
