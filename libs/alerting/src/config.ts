import { z } from 'zod';
import { UsageError } from '@tresor/errors';
import { alertLevelSchema } from './alert.js';
import { resolveSecret } from '@tresor/secrets';
import { emailChannelConfigSchema } from './channels/email/config.js';
import { slackChannelConfigSchema } from './channels/slack/config.js';
import { syslogChannelConfigSchema } from './channels/syslog/config.js';
import { webhookChannelConfigSchema } from './channels/webhook/config.js';

const MINUTE = 60_000;

export const channelConfigSchema = z.discriminatedUnion('type', [
  emailChannelConfigSchema,
  slackChannelConfigSchema,
  webhookChannelConfigSchema,
  syslogChannelConfigSchema,
]);
export type ChannelConfig = z.infer<typeof channelConfigSchema>;

/** The `alerts` section of the configuration (docs/alerts.md). */
export const alertingConfigSchema = z
  .object({
    groupWindowMs: z.number().int().min(0).default(MINUTE),
    renotifyIntervalMs: z.number().int().min(MINUTE).default(4 * 60 * MINUTE),
    groupBy: z.array(z.enum(['rule', 'level', 'source', 'tenant'])).min(1).default(['rule']),
    channels: z.record(z.string().regex(/^[A-Za-z0-9_-]+$/, 'a channel name is letters, digits, "_" and "-"'), channelConfigSchema).default({}),
    routes: z.array(z.object({ levels: z.array(alertLevelSchema).min(1), channels: z.array(z.string()).min(1) }).strict()).default([]),
  })
  .strict()
  .superRefine((c, ctx) => {
    c.routes.forEach((r, i) =>
      r.channels.forEach((name, j) => {
        if (!(name in c.channels)) ctx.addIssue({ code: 'custom', path: ['routes', i, 'channels', j], message: `no channel named '${name}' in channels` });
      }),
    );
  });
export type AlertingConfig = z.infer<typeof alertingConfigSchema>;

/** Validates an alerting config; the error names the path and what was expected (never a value). */
export function parseAlertingConfig(input: unknown, where = 'alerts'): AlertingConfig {
  const parsed = alertingConfigSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UsageError(`${where}.${issue.path.join('.')}: ${issue.message}`.replace(/\.:/, ':'));
  }
  return parsed.data;
}

/**
 * Reads every secret the channels reference and throws on the first missing one, so a wrong
 * variable or file name stops start-up instead of the first alert. The values are dropped.
 */
export async function checkAlertingSecrets(config: AlertingConfig): Promise<void> {
  for (const [name, c] of Object.entries(config.channels)) {
    if (c.type === 'email' && c.auth) await resolveSecret(c.auth.password, `alert channel ${name} SMTP password`);
    if (c.type === 'slack') await resolveSecret(c.url, `alert channel ${name} webhook URL`);
    if (c.type === 'webhook') await resolveSecret(c.secret, `alert channel ${name} HMAC secret`);
  }
}
