import type { AlertingConfig, ChannelConfig } from '../config.js';
import type { AlertChannel } from './channel.js';
import { EmailChannel } from './email/email.channel.js';
import { SlackChannel } from './slack/slack.channel.js';
import { SyslogChannel } from './syslog/syslog.channel.js';
import { WebhookChannel } from './webhook/webhook.channel.js';

/** The channel a config entry describes. */
export function createChannel(name: string, config: ChannelConfig): AlertChannel {
  switch (config.type) {
    case 'email':
      return new EmailChannel(name, config);
    case 'slack':
      return new SlackChannel(name, config);
    case 'webhook':
      return new WebhookChannel(name, config);
    case 'syslog':
      return new SyslogChannel(name, config);
  }
}

/** Every channel of a config, by name. */
export function createChannels(config: AlertingConfig): AlertChannel[] {
  return Object.entries(config.channels).map(([name, c]) => createChannel(name, c));
}
