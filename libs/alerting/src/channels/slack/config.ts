import { z } from 'zod';
import { secretRefSchema } from '@tresor/secrets';

/**
 * A Slack incoming webhook. Its URL is a bearer credential (anyone holding it can post), so the
 * config names where it is kept, like every other secret.
 */
export const slackChannelConfigSchema = z
  .object({
    type: z.literal('slack'),
    url: secretRefSchema,
    timeoutMs: z.number().int().min(100).default(10_000),
    attempts: z.number().int().min(1).max(10).default(3),
    initialBackoffMs: z.number().int().min(1).default(1000),
    maxBackoffMs: z.number().int().min(1).default(30_000),
  })
  .strict();
export type SlackChannelConfig = z.infer<typeof slackChannelConfigSchema>;
