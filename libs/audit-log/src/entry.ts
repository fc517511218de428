import { createHash, randomUUID } from 'node:crypto';
import { auditAppendInputSchema, auditEntrySchema } from '@tresor/contracts';
import type { AuditAppendInput, AuditEntry } from '@tresor/contracts';
import { canonicalJson } from '@tresor/crypto';

/** `prevHash` of entry 1: there is no earlier entry. */
export const GENESIS_HASH = '0'.repeat(64);

/** SHA-256 (hex) of the canonical JSON of an entry without its `hash` field. */
export function hashEntry(entry: Omit<AuditEntry, 'hash'> | AuditEntry): string {
  const { hash: _ignored, ...rest } = entry as AuditEntry;
  return createHash('sha256').update(canonicalJson(rest), 'utf8').digest('hex');
}

/** Turns an append request into chain entry `seq` after `prevHash`. */
export function sealEntry(raw: AuditAppendInput, seq: number, prevHash: string, now: Date): AuditEntry {
  const input = auditAppendInputSchema.parse(raw);
  const body: Omit<AuditEntry, 'hash'> = {
    v: 1,
    seq,
    id: input.id ?? randomUUID(),
    time: input.time ?? now.toISOString(),
    actor: input.actor,
    action: input.action,
    target: input.target,
    outcome: input.outcome,
    requestId: input.requestId ?? null,
    traceId: input.traceId ?? null,
    ...(input.details ? { details: input.details } : {}),
    prevHash,
  };
  // Round-trip through JSON so that what is hashed is exactly what a store will give back.
  const plain = JSON.parse(JSON.stringify(body)) as Omit<AuditEntry, 'hash'>;
  return auditEntrySchema.parse({ ...plain, hash: hashEntry(plain) });
}
