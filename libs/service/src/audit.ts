import { COMMANDS } from '@tresor/contracts';
import type { AuditAppendInput, AuditEntry, AuditVerifyReport } from '@tresor/contracts';
import { IoError, TresorError, UnavailableError } from '@tresor/errors';
import type { Bus } from '@tresor/messaging';

/** How long a caller waits for the audit service (it waits up to 10 s for MongoDB itself). */
const AUDIT_TIMEOUT_MS = 15_000;

/**
 * Appends an entry through the audit service and resolves with the stored entry. It rejects (the
 * TresorError the service named, or IoError when no audit service answers) whenever the entry is
 * not stored: call it before accepting a state-changing request, and refuse the request if it
 * rejects. Give `entry.id` (e.g. the request id) so a retried call is not recorded twice.
 */
export async function appendAudit(bus: Bus, entry: AuditAppendInput, options: { traceparent?: string; timeoutMs?: number } = {}): Promise<AuditEntry> {
  const reply = await bus.request(COMMANDS.auditAppend, { v: 1, entry }, { timeoutMs: options.timeoutMs ?? AUDIT_TIMEOUT_MS, ...(options.traceparent ? { traceparent: options.traceparent } : {}) });
  return reply.entry;
}

/**
 * Why a request is refused when its audit entry could not be stored: unavailable (503) when no
 * audit service answered in time, an I/O failure (502) when it answered with an error.
 */
export function auditRefusal(err: unknown): IoError {
  const message = `request refused: the audit log cannot record it (${err instanceof TresorError ? err.message : 'audit service error'})`;
  return err instanceof UnavailableError ? new UnavailableError(message, { cause: err }) : new IoError(message, { cause: err });
}

/** Asks the audit service to verify the whole chain. */
export async function verifyAudit(bus: Bus, options: { timeoutMs?: number } = {}): Promise<AuditVerifyReport> {
  const reply = await bus.request(COMMANDS.auditVerify, { v: 1 }, { timeoutMs: options.timeoutMs ?? 120_000 });
  return reply.report;
}

/** One page of entries from seq `from`; `next` continues, null at the end. */
export async function auditEntriesPage(bus: Bus, from: number, limit: number): Promise<{ entries: AuditEntry[]; next: number | null }> {
  const reply = await bus.request(COMMANDS.auditEntries, { v: 1, from, limit }, { timeoutMs: AUDIT_TIMEOUT_MS });
  return { entries: reply.entries, next: reply.next };
}
