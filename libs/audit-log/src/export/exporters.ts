import type { Writable } from 'node:stream';
import type { AuditEntry } from '@tresor/contracts';
import { canonicalJson } from '@tresor/crypto';
import { formatRfc5424, SyslogFacility, SyslogSeverity } from '../syslog/rfc5424.js';
import type { SyslogSender } from '../syslog/sender.js';
import type { AuditStore } from '../store.js';

/** Structured-data id of audit entries (enterprise number 32473 is reserved for documentation, RFC 5612). */
export const AUDIT_SD_ID = 'tresorAudit@32473';

/** Entries from seq `from` on, in pages, in chain order. */
export async function* auditEntries(store: AuditStore, from = 1, pageSize = 500): AsyncIterable<AuditEntry> {
  for (let next = from; ; ) {
    const page = await store.read(next, pageSize);
    yield* page;
    if (page.length < pageSize) return;
    next = page[page.length - 1]!.seq + 1;
  }
}

/** Writes entries as JSON lines (the same bytes `audit.jsonl` holds); returns how many. */
export async function exportJsonl(entries: AsyncIterable<AuditEntry>, out: Writable): Promise<number> {
  let n = 0;
  for await (const entry of entries) {
    if (!out.write(`${JSON.stringify(entry)}\n`)) await new Promise((r) => out.once('drain', r));
    n += 1;
  }
  return n;
}

/** An entry as an RFC 5424 message: facility authpriv, severity by outcome, the entry as canonical JSON in MSG. */
export function auditEntryToSyslog(entry: AuditEntry, options: { appName?: string; hostname?: string } = {}): string {
  return formatRfc5424({
    facility: SyslogFacility.authpriv,
    severity: entry.outcome === 'success' ? SyslogSeverity.info : entry.outcome === 'denied' ? SyslogSeverity.warning : SyslogSeverity.notice,
    time: entry.time,
    ...(options.hostname ? { hostname: options.hostname } : {}),
    appName: options.appName ?? 'tresor-audit',
    msgId: entry.action,
    structuredData: { [AUDIT_SD_ID]: { seq: String(entry.seq), hash: entry.hash, prevHash: entry.prevHash, user: entry.actor.user, outcome: entry.outcome } },
    message: canonicalJson(entry),
  });
}

/** Sends entries to a syslog receiver, one message each; returns how many. */
export async function exportSyslog(entries: AsyncIterable<AuditEntry>, sender: SyslogSender, options: { appName?: string; hostname?: string } = {}): Promise<number> {
  let n = 0;
  for await (const entry of entries) {
    await sender.send(auditEntryToSyslog(entry, options));
    n += 1;
  }
  return n;
}
