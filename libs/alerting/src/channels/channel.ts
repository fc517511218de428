import type { Alert } from '../alert.js';

/**
 * Why an alert is in a notification: `raised` (first notice of an occurrence), `escalated` (its
 * level rose above the last notified one), `reminder` (still firing after the re-notify interval),
 * `resolved` (the condition is over and stayed over for the group window).
 */
export type NotificationKind = 'raised' | 'escalated' | 'reminder' | 'resolved';

export interface NotificationItem {
  readonly kind: NotificationKind;
  /** A snapshot of the alert when the notification was made. */
  readonly alert: Alert;
}

/** One message to the channels: the changes of one alert group that became due together. */
export interface Notification {
  readonly id: string;
  /** The group key (see `groupBy`), e.g. `rule=backup-failed`. */
  readonly group: string;
  readonly createdAt: string;
  readonly items: readonly NotificationItem[];
}

/** A delivery channel. `send` resolves once the receiver took the message, and throws a TresorError if it gave up. */
export interface AlertChannel {
  readonly name: string;
  readonly type: string;
  send(notification: Notification): Promise<void>;
  close?(): Promise<void>;
}
