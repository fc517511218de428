import type { Alert } from './alert.js';
import type { Notification, NotificationItem } from './channels/channel.js';

const verbs: Record<NotificationItem['kind'], string> = {
  raised: 'FIRING',
  escalated: 'ESCALATED',
  reminder: 'STILL FIRING',
  resolved: 'RESOLVED',
};

/** One line for an alert in a notification, e.g. `FIRING CRITICAL backup-failed /etc/keys: backup failed`. */
export function itemLine(item: NotificationItem): string {
  const a = item.alert;
  const where = [a.tenant && `tenant ${a.tenant}`, a.source].filter(Boolean).join(' ');
  return `${verbs[item.kind]} ${a.level} ${a.rule}${where ? ` ${where}` : ''}: ${a.summary}`;
}

/** A subject line for the whole notification: the first item and how many more follow. */
export function notificationTitle(n: Notification, prefix = '[tresor]'): string {
  const first = n.items[0];
  if (!first) return `${prefix} (empty notification)`;
  const more = n.items.length > 1 ? ` (+${n.items.length - 1} more)` : '';
  return `${prefix} ${itemLine(first)}${more}`;
}

/** Plain-text body: one block per alert with its times and details. */
export function notificationText(n: Notification): string {
  return n.items.map((item) => [itemLine(item), ...alertFacts(item.alert).map(([k, v]) => `  ${k}: ${v}`)].join('\n')).join('\n\n') + '\n';
}

/** The facts of an alert as label/value pairs, in a stable order. */
export function alertFacts(a: Alert): [string, string][] {
  const facts: [string, string][] = [
    ['id', a.id],
    ['fingerprint', a.fingerprint],
    ['raised', a.raisedAt],
  ];
  if (a.resolvedAt) facts.push(['resolved', a.resolvedAt]);
  if (a.source) facts.push(['source', a.source]);
  if (a.tenant) facts.push(['tenant', a.tenant]);
  for (const [k, v] of Object.entries(a.details)) facts.push([k, String(v)]);
  return facts;
}
