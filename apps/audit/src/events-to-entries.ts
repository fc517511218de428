import type { AuditAppendInput, CloudEvent } from '@tresor/contracts';
import { findEventByType } from '@tresor/contracts';
import { traceIdOf } from '@tresor/messaging';

/** The idempotency key of the entry an event becomes: a redelivered event maps to the same entry. */
export const eventEntryId = (eventId: string): string => `event:${eventId}`;

/**
 * An event from TRESOR_EVENTS as an audit entry: the service that published it is the actor, the
 * event name is the action, its subject (job id) the target. Events carry no secrets (DESIGN.md),
 * so their data is kept whole in `details`.
 */
export function eventToAuditInput(event: CloudEvent, streamSeq: number): AuditAppendInput {
  const def = findEventByType(event.type);
  const action = def ? def.name : event.type;
  const data = (event.data ?? {}) as Record<string, unknown>;
  const target = event.subject ?? (typeof data.jobId === 'string' ? data.jobId : typeof data.backupId === 'string' ? data.backupId : '-');
  return {
    id: eventEntryId(event.id),
    time: event.time,
    actor: { user: `service:${event.source}`, roles: ['service'], ip: null, userAgent: null },
    action,
    target,
    outcome: /\.failed$/.test(action) ? 'failure' : 'success',
    requestId: event.id,
    traceId: traceIdOf(event.traceparent) ?? null,
    details: { eventType: event.type, streamSeq, data },
  };
}
