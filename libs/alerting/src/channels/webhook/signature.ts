import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'X-Tresor-Signature';
export const TIMESTAMP_HEADER = 'X-Tresor-Timestamp';
export const DELIVERY_HEADER = 'X-Tresor-Delivery';

/** Receivers should refuse a delivery whose timestamp is further than this from their clock. */
export const DEFAULT_TOLERANCE_S = 300;

/** `sha256=<hex HMAC-SHA256 of the body under the secret>`: the value of X-Tresor-Signature. */
export function signWebhookBody(secret: string, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export interface WebhookCheck {
  readonly secret: string;
  /** The raw request body, exactly as received. */
  readonly body: string | Buffer;
  readonly signature: string | undefined;
  readonly timestamp: string | undefined;
  /** Receiver's clock in seconds since the epoch. */
  readonly nowS: number;
  readonly toleranceS?: number;
}

/**
 * What a receiver checks (docs/alerts.md): the signature over the raw body, the timestamp header
 * equal to the signed body's `timestamp`, and that timestamp close to the receiver's clock.
 * Returns the reason a delivery is refused, or undefined if it is genuine and fresh.
 */
export function checkWebhookDelivery(c: WebhookCheck): string | undefined {
  if (!c.signature || !c.timestamp) return 'missing signature or timestamp header';
  const expected = Buffer.from(signWebhookBody(c.secret, c.body));
  const given = Buffer.from(c.signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'bad signature';
  let signedTimestamp: unknown;
  try {
    signedTimestamp = (JSON.parse(c.body.toString()) as { timestamp?: unknown }).timestamp;
  } catch {
    return 'body is not JSON';
  }
  // The header alone is not signed; only the copy inside the signed body proves the time.
  if (String(signedTimestamp) !== c.timestamp) return 'timestamp header differs from the signed body';
  if (Math.abs(c.nowS - Number(c.timestamp)) > (c.toleranceS ?? DEFAULT_TOLERANCE_S)) return 'timestamp outside tolerance (replay?)';
  return undefined;
}
