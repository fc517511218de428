import type { Alert } from '../alert.js';
import { fingerprintOf } from '../alert.js';
import type { Notification, NotificationItem } from './channel.js';

/** A notification as the manager makes them, for channel tests and examples in docs. */
export function sampleNotification(kind: NotificationItem['kind'] = 'raised', overrides: Partial<Alert> = {}): Notification {
  const identity = { rule: 'backup-failed', source: '/etc/keys' };
  const alert: Alert = {
    id: '6f1c2b8e-0000-4000-8000-000000000001',
    fingerprint: fingerprintOf(identity),
    ...identity,
    level: 'CRITICAL',
    summary: 'backup of /etc/keys failed: cannot read /etc/keys/a.key: EACCES',
    details: { jobId: 'job-1', code: 'IO' },
    state: kind === 'resolved' ? 'resolved' : 'firing',
    raisedAt: '2026-11-26T08:00:00.000Z',
    ...(kind === 'resolved' ? { resolvedAt: '2026-11-26T08:10:00.000Z' } : {}),
    lastSeenAt: '2026-11-26T08:00:00.000Z',
    notifiedAt: '2026-11-26T08:01:00.000Z',
    notifications: 1,
    flaps: 0,
    ...overrides,
  };
  return { id: `n-${kind}`, group: 'rule=backup-failed', createdAt: '2026-11-26T08:01:00.000Z', items: [{ kind, alert }] };
}
