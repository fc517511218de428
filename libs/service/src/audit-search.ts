import type { AuditEntry, AuditOutcome } from '@tresor/contracts';
import type { Bus } from '@tresor/messaging';
import { auditEntriesPage } from './audit.js';

/** Which audit entries a search wants; every field given must match. */
export interface AuditFilter {
  /** Case-insensitive substring of the actor's user name. */
  readonly actor?: string;
  /** Case-insensitive substring of the action (`approvals.` finds every dual-control step). */
  readonly action?: string;
  /** Case-insensitive substring of the target. */
  readonly target?: string;
  readonly outcome?: AuditOutcome;
  /** Entries at or after this time. */
  readonly since?: Date;
  /** Entries at or before this time. */
  readonly until?: Date;
}

/** Entries read from the audit service per request while scanning. */
const SCAN_PAGE = 1000;

const contains = (value: string, part: string | undefined): boolean => part === undefined || value.toLowerCase().includes(part.toLowerCase());

/** Whether an entry matches the filter. */
export function auditEntryMatches(entry: AuditEntry, filter: AuditFilter): boolean {
  const t = Date.parse(entry.time);
  return (
    contains(entry.actor.user, filter.actor) &&
    contains(entry.action, filter.action) &&
    contains(entry.target, filter.target) &&
    (filter.outcome === undefined || entry.outcome === filter.outcome) &&
    (filter.since === undefined || t >= filter.since.getTime()) &&
    (filter.until === undefined || t <= filter.until.getTime())
  );
}

/** The matching entries in chain order from seq `from`, read page by page from the audit service (never all at once). */
export async function* searchAuditEntries(bus: Bus, filter: AuditFilter, from = 1): AsyncGenerator<AuditEntry> {
  let next: number | null = from;
  while (next !== null) {
    const page = await auditEntriesPage(bus, next, SCAN_PAGE);
    for (const entry of page.entries) if (auditEntryMatches(entry, filter)) yield entry;
    next = page.next;
  }
}

/** At most `limit` matching entries from seq `from`; `next` is where the following search page starts (null at the end). */
export async function searchAuditPage(bus: Bus, filter: AuditFilter, from: number, limit: number): Promise<{ entries: AuditEntry[]; next: number | null }> {
  // Without a filter every entry matches: one page of exactly `limit`, as the plain export reads it.
  if (Object.values(filter).every((v) => v === undefined)) return auditEntriesPage(bus, from, limit);
  const entries: AuditEntry[] = [];
  for await (const entry of searchAuditEntries(bus, filter, from)) {
    entries.push(entry);
    if (entries.length === limit) return { entries, next: entry.seq + 1 };
  }
  return { entries, next: null };
}

export const AUDIT_CSV_COLUMNS = ['seq', 'time', 'actor', 'roles', 'ip', 'action', 'target', 'outcome', 'requestId', 'traceId', 'details', 'prevHash', 'hash'] as const;

/** One CSV cell (RFC 4180 quoting); a leading = + - @ is neutralised so a spreadsheet never runs it as a formula. */
function csvCell(value: string | number | null | undefined): string {
  let s = value === null || value === undefined ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** The CSV header line of an audit export. */
export function auditCsvHeader(): string {
  return `${AUDIT_CSV_COLUMNS.join(',')}\r\n`;
}

/** One entry as a CSV line (details as JSON in one cell). */
export function auditEntryCsv(e: AuditEntry): string {
  const cells = [e.seq, e.time, e.actor.user, e.actor.roles.join(' '), e.actor.ip, e.action, e.target, e.outcome, e.requestId, e.traceId, e.details ? JSON.stringify(e.details) : '', e.prevHash, e.hash];
  return `${cells.map(csvCell).join(',')}\r\n`;
}
