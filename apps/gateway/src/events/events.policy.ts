import type { Permission } from '@tresor/auth';
import type { CloudEvent } from '@tresor/contracts';

/** What a stream relays: job events, each under the read permission of its job's kind. */
const RELAYED: Readonly<Record<string, Permission>> = { backup: 'backups:read', verify: 'backups:read', restore: 'restores:read' };

/** `backup.progress` of `io.tresor.backup.progress.v1`, or undefined for a type that is not Tresor's. */
export function eventName(event: CloudEvent): string | undefined {
  return /^io\.tresor\.([a-z.]+)\.v\d+$/.exec(event.type)?.[1];
}

/** The permission a caller needs to receive this event, or undefined when streams never relay it (alerts, audit, approvals). */
export function permissionFor(event: CloudEvent): Permission | undefined {
  const name = eventName(event);
  return name ? RELAYED[name.split('.')[0]!] : undefined;
}

/** The job an event is about: its CloudEvents subject, else `data.jobId`. */
export function jobIdOf(event: CloudEvent): string | undefined {
  if (event.subject) return event.subject;
  const id = (event.data as { jobId?: unknown } | null)?.jobId;
  return typeof id === 'string' ? id : undefined;
}

/** One Server-Sent Events frame: the stream sequence as id (a reconnect resumes after it), the event name, the CloudEvent as data. */
export function sseFrame(seq: number, event: CloudEvent): string {
  return `id: ${seq}\nevent: ${eventName(event) ?? 'event'}\ndata: ${JSON.stringify(event)}\n\n`;
}

/** A comment line: ignored by SSE readers, it keeps proxies from closing an idle stream. */
export const SSE_HEARTBEAT = ': heartbeat\n\n';
