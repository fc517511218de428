import { auditCheckpointSchema, auditEntrySchema } from '@tresor/contracts';
import type { AuditCheckpoint, AuditEntry, AuditProblemKind, AuditVerifyReport } from '@tresor/contracts';
import type { TrustedKeys } from './checkpoint.js';
import { checkpointSignatureProblem } from './checkpoint.js';
import { GENESIS_HASH, hashEntry } from './entry.js';
import type { AuditStore, StoredRecord } from './store.js';

class Problem extends Error {
  constructor(
    readonly kind: AuditProblemKind,
    readonly seq: number,
    message: string,
  ) {
    super(message);
  }
}

const seqOf = (raw: unknown): number | undefined => {
  const seq = (raw as { seq?: unknown } | null)?.seq;
  return typeof seq === 'number' && Number.isInteger(seq) ? seq : undefined;
};

/**
 * Recomputes the chain from the store's records in storage order and checks every checkpoint
 * signature, reporting the FIRST problem: an entry whose content no longer matches its hash
 * (edited), a gap (deleted), a second entry for a seq (inserted), entries out of order
 * (reordered), a checkpoint that is not validly signed by a trusted key, or a chain that was
 * rewritten consistently but no longer matches a signed checkpoint.
 */
export async function verifyAuditChain(store: AuditStore, keys: TrustedKeys): Promise<AuditVerifyReport> {
  const checkpoints = await loadCheckpoints(store);
  // Pass 1: which seqs exist and how often, so gaps and duplicates can be told from moves.
  const count = new Map<number, number>();
  const positions = new Map<number, string[]>();
  for await (const record of store.scan()) {
    const seq = seqOf(record.raw);
    if (seq === undefined) continue;
    count.set(seq, (count.get(seq) ?? 0) + 1);
    positions.set(seq, [...(positions.get(seq) ?? []), record.position]);
  }

  let prev: AuditEntry | undefined;
  let entries = 0;
  let lastCheckpointSeq = 0;
  let checkpointsChecked = 0;
  const report = (problem?: Problem): AuditVerifyReport => ({
    ok: !problem,
    entries,
    checkpoints: checkpointsChecked,
    lastSeq: prev?.seq ?? 0,
    lastHash: prev?.hash ?? null,
    lastCheckpointSeq,
    unprotectedEntries: (prev?.seq ?? 0) - lastCheckpointSeq,
    ...(problem ? { problem: { kind: problem.kind, seq: problem.seq, message: problem.message } } : {}),
  });

  try {
    for await (const record of store.scan()) {
      const entry = checkEntry(record, prev, count, positions);
      prev = entry;
      entries += 1;
      for (const cp of checkpoints.get(entry.seq) ?? []) {
        checkCheckpoint(cp, entry, keys, lastCheckpointSeq);
        checkpointsChecked += 1;
        lastCheckpointSeq = entry.seq;
      }
    }
    const lastSeq = prev?.seq ?? 0;
    for (const [seq, cps] of [...checkpoints].sort((a, b) => a[0] - b[0])) {
      if (seq <= lastSeq) continue;
      for (const cp of cps) {
        const bad = cp instanceof Problem ? cp : signatureProblem(cp, keys);
        if (bad) throw bad;
      }
      throw new Problem('deleted', lastSeq + 1, `entries ${lastSeq + 1}..${seq} were deleted: the log ends at ${lastSeq} but a signed checkpoint covers entry ${seq}`);
    }
    return report();
  } catch (err) {
    if (err instanceof Problem) return report(err);
    throw err;
  }
}

function checkEntry(record: StoredRecord, prev: AuditEntry | undefined, count: Map<number, number>, positions: Map<number, string[]>): AuditEntry {
  const expected = (prev?.seq ?? 0) + 1;
  const prevHash = prev?.hash ?? GENESIS_HASH;
  const claimed = seqOf(record.raw);
  if (claimed !== undefined && (count.get(claimed) ?? 0) > 1) {
    throw new Problem('inserted', claimed, `entry ${claimed} was inserted: ${count.get(claimed)} entries claim seq ${claimed} (${positions.get(claimed)!.join(', ')})`);
  }
  const parsed = auditEntrySchema.safeParse(record.raw);
  if (!parsed.success) {
    const at = parsed.error.issues[0];
    throw new Problem('edited', claimed ?? expected, `entry ${claimed ?? `at ${record.position}`} was edited: it is not a valid entry (${at?.path.join('.') || 'entry'}: ${at?.message})`);
  }
  const entry = parsed.data;
  if (hashEntry(entry) !== entry.hash) {
    throw new Problem('edited', entry.seq, `entry ${entry.seq} was edited: its content does not hash to its recorded hash (${record.position})`);
  }
  if (entry.seq > expected) {
    if ((count.get(expected) ?? 0) > 0) {
      throw new Problem('reordered', entry.seq, `entries were reordered: entry ${entry.seq} is stored before entry ${expected} (${record.position})`);
    }
    if (entry.prevHash === prevHash) {
      throw new Problem('inserted', entry.seq, `entry ${entry.seq} was inserted: it follows entry ${expected - 1} but skips seq ${expected}`);
    }
    throw new Problem('deleted', expected, `entr${entry.seq - expected > 1 ? `ies ${expected}..${entry.seq - 1} were` : `y ${expected} was`} deleted: entry ${entry.seq} follows entry ${expected - 1}`);
  }
  if (entry.seq < expected) {
    throw new Problem('reordered', entry.seq, `entries were reordered: entry ${entry.seq} is stored after entry ${expected - 1} (${record.position})`);
  }
  if (entry.prevHash !== prevHash) {
    if (!prev) throw new Problem('edited', entry.seq, `entry ${entry.seq} was edited: the first entry must start the chain`);
    throw new Problem('edited', prev.seq, `entry ${prev.seq} was edited and rehashed: entry ${entry.seq} does not link to it`);
  }
  return entry;
}

function checkCheckpoint(cp: AuditCheckpoint | Problem, entry: AuditEntry, keys: TrustedKeys, previous: number): void {
  const bad = cp instanceof Problem ? cp : signatureProblem(cp, keys);
  if (bad) throw bad;
  if ((cp as AuditCheckpoint).hash !== entry.hash) {
    throw new Problem(
      'checkpoint-mismatch',
      previous + 1,
      `entries ${previous + 1}..${entry.seq} were rewritten: entry ${entry.seq} no longer has the hash its signed checkpoint records (the chain was edited, inserted into or cut and rehashed after entry ${previous})`,
    );
  }
}

function signatureProblem(cp: AuditCheckpoint, keys: TrustedKeys): Problem | undefined {
  const message = checkpointSignatureProblem(cp, keys);
  return message ? new Problem('bad-checkpoint-signature', cp.seq, message) : undefined;
}

async function loadCheckpoints(store: AuditStore): Promise<Map<number, (AuditCheckpoint | Problem)[]>> {
  const bySeq = new Map<number, (AuditCheckpoint | Problem)[]>();
  for await (const record of store.scanCheckpoints()) {
    const parsed = auditCheckpointSchema.safeParse(record.raw);
    const seq = seqOf(record.raw) ?? 0;
    const item = parsed.success ? parsed.data : new Problem('bad-checkpoint-signature', seq, `checkpoint at ${record.position} is malformed`);
    bySeq.set(seq, [...(bySeq.get(seq) ?? []), item]);
  }
  return bySeq;
}
