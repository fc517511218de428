import { z } from 'zod';
import type { CommandDefinition } from './commands.js';
import { isoTimeSchema, sha256Schema } from './records.js';
import { versioned } from './versioned.js';

/**
 * The tamper-evident audit log's records (docs/audit.md). Defined here, not in libs/audit-log,
 * because they travel on NATS (audit.* commands) and over HTTP (/v1/audit/*).
 */

/** Who did it: a person (LDAP user), an API token, the OS user of a standalone CLI, or a service. */
export const auditActorSchema = z.object({
  user: z.string().min(1).max(256),
  roles: z.array(z.string().max(64)).max(32),
  /** Source IP of the request (null for the CLI and services). */
  ip: z.string().max(64).nullable(),
  userAgent: z.string().max(512).nullable(),
});
export type AuditActor = z.infer<typeof auditActorSchema>;

/** `denied`: refused by authorization; `failure`: allowed but it failed. */
export const auditOutcomeSchema = z.enum(['success', 'failure', 'denied']);
export type AuditOutcome = z.infer<typeof auditOutcomeSchema>;

/** What a caller hands to the log; the log adds seq, time (unless given), prevHash and hash. */
export const auditAppendInputSchema = z.strictObject({
  /** Idempotency key: appending an id that is already in the log returns that entry instead. */
  id: z.string().min(1).max(200).optional(),
  time: isoTimeSchema.optional(),
  actor: auditActorSchema,
  /** Dotted verb, e.g. `backup.create`, `restore.request`, `keys.rotate`. */
  action: z.string().min(1).max(128),
  /** What it acted on: a backup id, source path, job id, key version... (`-` for none). */
  target: z.string().min(1).max(4096),
  outcome: auditOutcomeSchema,
  requestId: z.string().max(200).nullable().optional(),
  traceId: z.string().max(64).nullable().optional(),
  /** Non-secret facts about the operation (never passphrases, tokens or key material). */
  details: z.record(z.string(), z.unknown()).optional(),
});
export type AuditAppendInput = z.input<typeof auditAppendInputSchema>;

/** One entry of the hash chain. `hash` = SHA-256 (hex) of the canonical JSON of every other field. */
export const auditEntrySchema = z.strictObject({
  v: z.literal(1),
  seq: z.number().int().positive(),
  id: z.string().min(1).max(200),
  time: isoTimeSchema,
  actor: auditActorSchema,
  action: z.string().min(1).max(128),
  target: z.string().min(1).max(4096),
  outcome: auditOutcomeSchema,
  requestId: z.string().max(200).nullable(),
  traceId: z.string().max(64).nullable(),
  details: z.record(z.string(), z.unknown()).optional(),
  /** `hash` of entry seq-1; 64 zeros for seq 1. */
  prevHash: sha256Schema,
  hash: sha256Schema,
});
export type AuditEntry = z.infer<typeof auditEntrySchema>;

/** A signed statement that entry `seq` has hash `hash` (and so, through the chain, every earlier entry). */
export const auditCheckpointSchema = z.strictObject({
  seq: z.number().int().positive(),
  hash: sha256Schema,
  time: isoTimeSchema,
  /** Fingerprint of the Ed25519 key (`ed25519:<32 hex>`). */
  keyId: z.string().min(1),
  /** Ed25519 signature (base64) of canonical JSON {seq, hash, time, keyId}. */
  signature: z.string().min(1),
});
export type AuditCheckpoint = z.infer<typeof auditCheckpointSchema>;

export const auditProblemKindSchema = z.enum(['edited', 'deleted', 'inserted', 'reordered', 'bad-checkpoint-signature', 'checkpoint-mismatch']);
export type AuditProblemKind = z.infer<typeof auditProblemKindSchema>;

/** What `verifyAuditChain` found: ok, or the FIRST problem in chain order. */
export const auditVerifyReportSchema = z.object({
  ok: z.boolean(),
  entries: z.number().int().nonnegative(),
  checkpoints: z.number().int().nonnegative(),
  lastSeq: z.number().int().nonnegative(),
  lastHash: sha256Schema.nullable(),
  lastCheckpointSeq: z.number().int().nonnegative(),
  /** Entries after the last checkpoint: only as trustworthy as the store itself. */
  unprotectedEntries: z.number().int().nonnegative(),
  problem: z
    .object({
      kind: auditProblemKindSchema,
      /** The entry (or checkpoint) at fault. */
      seq: z.number().int().nonnegative(),
      message: z.string(),
    })
    .optional(),
});
export type AuditVerifyReport = z.infer<typeof auditVerifyReportSchema>;

export const auditEntriesResponseSchema = z.object({ entries: z.array(auditEntrySchema), next: z.number().int().positive().nullable() });
export type AuditEntriesResponse = z.infer<typeof auditEntriesResponseSchema>;

const exampleEntry: AuditEntry = {
  v: 1,
  seq: 42,
  id: 'req-7f3a',
  time: '2026-11-26T09:00:00.000Z',
  actor: { user: 'oscar.operator', roles: ['operator'], ip: '10.0.0.7', userAgent: 'tresor-cli/0.1.0' },
  action: 'backup.create',
  target: '/etc/keys',
  outcome: 'success',
  requestId: 'req-7f3a',
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  prevHash: 'a'.repeat(64),
  hash: 'b'.repeat(64),
};

function command<Req extends z.ZodType, Rep extends z.ZodType>(def: CommandDefinition<Req, Rep>): CommandDefinition<Req, Rep> {
  return def;
}

/** The audit service's commands (spread into COMMANDS). */
export const AUDIT_COMMANDS = {
  auditAppend: command({
    name: 'audit.append',
    version: 1,
    service: 'audit',
    description:
      'Appends one entry to the hash chain and replies once it is stored. Callers (the gateway) send it before accepting a state-changing request and fail the request if it fails: audit writes are not fire-and-forget. An `id` already in the log returns the stored entry.',
    request: versioned(1, { entry: auditAppendInputSchema }),
    reply: versioned(1, { entry: auditEntrySchema }),
    example: {
      request: { v: 1, entry: { id: 'req-7f3a', actor: exampleEntry.actor, action: 'backup.create', target: '/etc/keys', outcome: 'success', requestId: 'req-7f3a' } },
      reply: { v: 1, entry: exampleEntry },
    },
  }),
  auditVerify: command({
    name: 'audit.verify',
    version: 1,
    service: 'audit',
    description: 'Recomputes the whole chain and every checkpoint signature; the report names the first edited, deleted, inserted or reordered entry.',
    request: versioned(1, {}),
    reply: versioned(1, { report: auditVerifyReportSchema }),
    example: {
      request: { v: 1 },
      reply: { v: 1, report: { ok: false, entries: 41, checkpoints: 0, lastSeq: 41, lastHash: 'b'.repeat(64), lastCheckpointSeq: 0, unprotectedEntries: 41, problem: { kind: 'edited', seq: 17, message: 'entry 17 was edited: its content does not hash to its recorded hash' } } },
    },
  }),
  auditEntries: command({
    name: 'audit.entries',
    version: 1,
    service: 'audit',
    description: 'Entries in chain order from seq `from` (default 1), at most `limit`; `next` continues (export and query).',
    request: versioned(1, { from: z.number().int().positive().default(1), limit: z.number().int().min(1).max(1000).default(100) }),
    reply: versioned(1, { entries: z.array(auditEntrySchema), next: z.number().int().positive().nullable() }),
    example: { request: { v: 1, from: 42, limit: 1 }, reply: { v: 1, entries: [exampleEntry], next: 43 } },
  }),
} as const;
