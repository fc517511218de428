import { z } from 'zod';
import { secretRefSchema } from '@tresor/secrets';

/** A generic JSON webhook, signed with HMAC-SHA256 under a shared secret. */
export const webhookChannelConfigSchema = z
  .object({
    type: z.literal('webhook'),
    url: z.string().url().refine((u) => /^https?:\/\//.test(u), 'an http(s) URL'),
    /** The HMAC key shared with the receiver. */
    secret: secretRefSchema,
    /** Extra request headers (not secret: they are not taken from a secret reference). */
    headers: z.record(z.string().regex(/^[A-Za-z0-9-]+$/), z.string()).default({}),
    timeoutMs: z.number().int().min(100).default(10_000),
    /** Attempts in all; 5xx, 429, timeouts and network errors are retried with exponential backoff. */
    attempts: z.number().int().min(1).max(20).default(5),
    initialBackoffMs: z.number().int().min(1).default(1000),
    maxBackoffMs: z.number().int().min(1).default(60_000),
  })
  .strict();
export type WebhookChannelConfig = z.infer<typeof webhookChannelConfigSchema>;
