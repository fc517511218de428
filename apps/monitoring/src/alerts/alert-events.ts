import type { Notification } from '@tresor/alerting';
import { EVENTS } from '@tresor/contracts';
import type { Bus } from '@tresor/messaging';

const severity = { INFO: 'info', WARNING: 'warning', CRITICAL: 'critical' } as const;

/**
 * Publishes `alert.raised` / `alert.resolved` for what the manager notifies, so integrators see
 * the same de-duplicated story as the channels: raised (and escalated) and resolved, no reminders.
 * The event id is derived from the alert and its notification count: a retried publish is dropped
 * by JetStream's duplicate window.
 */
export function alertEventPublisher(bus: Bus): (n: Notification) => Promise<void> {
  return async (n) => {
    for (const { kind, alert } of n.items) {
      const id = `${alert.id}:${alert.notifications}`;
      if (kind === 'resolved') {
        await bus.publishEvent(EVENTS.alertResolved, { alertId: alert.id }, { id });
      } else if (kind === 'raised' || kind === 'escalated') {
        await bus.publishEvent(EVENTS.alertRaised, { alertId: alert.id, severity: severity[alert.level], summary: alert.summary }, { id });
      }
    }
  };
}
