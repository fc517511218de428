import { z } from 'zod';
import type { channelConfigSchema } from '@tresor/alerting';
import type { TresorConfigInput } from '../schema.js';
import { parseSeed } from './parse.js';
import type { Translation } from './parse.js';

const percent = z.number().min(0).max(100);
const enabled = z.boolean().default(true);

/** The seed system's `monitor_config.json`, as documented in docs/configuration.md. */
export const seedMonitorConfigSchema = z.strictObject({
  /** The directory the seed watched (its backup destination). */
  backup_dir: z.string().min(1).optional(),
  /** Disk usage, percent. */
  warning_threshold: percent.optional(),
  critical_threshold: percent.optional(),
  max_backup_age_hours: z.number().positive().optional(),
  /** Seconds between two check rounds. */
  check_interval: z.number().int().min(1).optional(),
  alerts: z
    .strictObject({
      email: z
        .strictObject({
          enabled,
          smtp_host: z.string().min(1),
          smtp_port: z.number().int().min(1).max(65535).optional(),
          use_tls: z.boolean().optional(),
          username: z.string().min(1).optional(),
          password: z.string().optional(),
          from: z.string().min(3),
          to: z.union([z.string().min(3), z.array(z.string().min(3)).min(1)]),
        })
        .optional(),
      slack: z.strictObject({ enabled, webhook_url: z.string().min(1) }).optional(),
      webhook: z.strictObject({ enabled, url: z.string().min(1) }).optional(),
    })
    .optional(),
});
type ChannelInput = z.input<typeof channelConfigSchema>;
type SeedAlerts = NonNullable<z.infer<typeof seedMonitorConfigSchema>['alerts']>;

/** Where translated channels read the secrets the seed file held in clear (Tresor keeps none in its config). */
export const SEED_SECRET_ENV = {
  smtpPassword: 'TRESOR_SMTP_PASSWORD',
  slackUrl: 'TRESOR_SLACK_WEBHOOK_URL',
  webhookSecret: 'TRESOR_WEBHOOK_SECRET',
} as const;

/** Translates the seed's `monitor_config.json` into a Tresor config fragment plus notes on what has no equivalent. */
export function translateSeedMonitorConfig(json: unknown, where = 'monitor_config.json'): Translation {
  const seed = parseSeed(seedMonitorConfigSchema, json, where);
  const notes: string[] = [];
  const monitoring: NonNullable<TresorConfigInput['monitoring']> = {};
  if (seed.check_interval !== undefined) monitoring.intervalSeconds = seed.check_interval;
  if (seed.warning_threshold !== undefined || seed.critical_threshold !== undefined) {
    monitoring.storage = {
      ...(seed.warning_threshold !== undefined ? { warningPercent: seed.warning_threshold } : {}),
      ...(seed.critical_threshold !== undefined ? { criticalPercent: seed.critical_threshold } : {}),
    };
  }
  if (seed.max_backup_age_hours !== undefined) monitoring.freshness = { rpoHours: seed.max_backup_age_hours };
  const channels = seed.alerts ? translateChannels(seed.alerts, where, notes) : {};
  if (Object.keys(channels).length > 0) {
    // The seed mailed on every problem it found: warnings and critical ones.
    monitoring.alerts = { channels, routes: [{ levels: ['WARNING', 'CRITICAL'], channels: Object.keys(channels) }] };
  }
  if (seed.backup_dir !== undefined) {
    notes.push(`${where}: backup_dir: Tresor watches the repository's storage, not a directory; make ${seed.backup_dir} the repository storage (storage.path) or drop it`);
  }
  return { config: { version: 1, monitoring }, notes };
}

function translateChannels(alerts: SeedAlerts, where: string, notes: string[]): Record<string, ChannelInput> {
  const channels: Record<string, ChannelInput> = {};
  for (const name of ['email', 'slack', 'webhook'] as const) {
    if (alerts[name]?.enabled === false) notes.push(`${where}: alerts.${name}: disabled in the seed file, so not translated`);
  }
  const email = alerts.email;
  if (email?.enabled) {
    const port = email.smtp_port ?? 587;
    channels.email = {
      type: 'email',
      host: email.smtp_host,
      port,
      // The seed's use_tls: STARTTLS, or implicit TLS on the SMTPS port; false sends in clear.
      security: email.use_tls === false ? 'none' : port === 465 ? 'tls' : 'starttls',
      from: email.from,
      to: typeof email.to === 'string' ? [email.to] : email.to,
      ...(email.username !== undefined ? { auth: { user: email.username, password: { env: SEED_SECRET_ENV.smtpPassword } } } : {}),
    };
    if (email.username !== undefined) notes.push(`${where}: alerts.email.password: not copied; set ${SEED_SECRET_ENV.smtpPassword} to it (Tresor reads secrets from the environment or a file only)`);
    else if (email.password !== undefined) notes.push(`${where}: alerts.email.password: given without username, so not used`);
    if (email.use_tls === false) notes.push(`${where}: alerts.email.use_tls: false sends alerts in clear text (security: none)`);
  }
  if (alerts.slack?.enabled) {
    channels.slack = { type: 'slack', url: { env: SEED_SECRET_ENV.slackUrl } };
    notes.push(`${where}: alerts.slack.webhook_url: not copied (it is a credential); set ${SEED_SECRET_ENV.slackUrl} to it`);
  }
  if (alerts.webhook?.enabled) {
    channels.webhook = { type: 'webhook', url: alerts.webhook.url, secret: { env: SEED_SECRET_ENV.webhookSecret } };
    notes.push(`${where}: alerts.webhook: Tresor signs every webhook with HMAC-SHA256; set ${SEED_SECRET_ENV.webhookSecret} to a secret shared with the receiver (docs/alerts.md)`);
  }
  return channels;
}
