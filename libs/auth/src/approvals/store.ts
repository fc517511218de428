import { createHash, randomBytes } from 'node:crypto';
import type { Collection, Db } from 'mongodb';
import type { ApprovalRequestDto, ApprovalState } from '@tresor/contracts';
import { ConflictError, ForbiddenError, NotFoundError } from '@tresor/errors';

/** Who acted, by stable subject (compared) and display name (shown, audited). */
export interface ApprovalActor {
  readonly subject: string;
  readonly name: string;
}

/** The restore a request will queue once approved (backup already resolved to its id). */
export interface RestoreParams {
  backupId: string;
  target: string;
  include: string[];
  exclude: string[];
  dryRun: boolean;
  overwrite: boolean;
}

interface RequestDoc {
  _id: string;
  kind: 'restore';
  /** Cache of the state for listing; the truth is the outcome document (see the class comment). */
  state: ApprovalState;
  tenant: string;
  source: string;
  restore: RestoreParams;
  requester: ApprovalActor;
  requiredApprovals: number;
  createdAt: Date;
  expiresAt: Date;
  jobId: string | null;
  traceparent: string | null;
  /** An expiry has been audited and announced (the sweep that stored it may have died before). */
  announced?: boolean;
}

/** One custodian's approval; `_id` = request id + subject, so one person counts once. */
interface DecisionDoc {
  _id: string;
  requestId: string;
  subject: string;
  name: string;
  at: Date;
}

/** How a request ended; `_id` = request id, so exactly one outcome is ever stored. */
interface OutcomeDoc {
  _id: string;
  outcome: 'approved' | 'rejected' | 'expired';
  at: Date;
  by: ApprovalActor | null;
  reason: string | null;
}

/** A request with its approvals and outcome. */
export interface ApprovalRequest extends Readonly<RequestDoc> {
  readonly approvals: readonly (ApprovalActor & { at: Date })[];
  readonly rejection: (ApprovalActor & { at: Date; reason: string }) | null;
}

export interface NewApprovalRequest {
  tenant: string;
  source: string;
  restore: RestoreParams;
  requester: ApprovalActor;
  requiredApprovals: number;
  expirySeconds: number;
  traceparent?: string;
  /** The client's Idempotency-Key: the same requester and key give the same request. */
  idempotencyKey?: string | null;
}

/** The API shape of a request. */
export function toDto(d: ApprovalRequest): ApprovalRequestDto {
  return {
    id: d._id,
    kind: d.kind,
    state: d.state,
    tenant: d.tenant,
    source: d.source,
    backupId: d.restore.backupId,
    restore: { target: d.restore.target, include: d.restore.include, exclude: d.restore.exclude, dryRun: d.restore.dryRun, overwrite: d.restore.overwrite },
    requester: { subject: d.requester.subject, name: d.requester.name },
    requiredApprovals: d.requiredApprovals,
    approvals: d.approvals.map((a) => ({ subject: a.subject, name: a.name, at: a.at.toISOString() })),
    rejection: d.rejection ? { subject: d.rejection.subject, name: d.rejection.name, at: d.rejection.at.toISOString(), reason: d.rejection.reason } : null,
    createdAt: d.createdAt.toISOString(),
    expiresAt: d.expiresAt.toISOString(),
    jobId: d.jobId,
  };
}

/**
 * Restore requests under dual control, in MongoDB. FerretDB v1 lets two racing conditional
 * updates both win (ADR 10, 17), so every decision that must happen once is an insert under a
 * unique `_id`, the one atomic primitive MongoDB and FerretDB share:
 * - an approval is a document `<request>\n<subject>` (`approval_decisions`): one person counts once;
 * - the outcome is a document `<request>` (`approval_outcomes`): the first of approved (inserted
 *   by an approval that found M), rejected or expired wins, and only its writer acts on it, so
 *   two approvals at once queue the restore once, and nothing undoes a rejection or an expiry.
 * The request document (`approval_requests`) caches the state for listing.
 *
 *   pending --M approvals--> approved --job queued--> executed
 *   pending --reject--> rejected;  pending --window over--> expired
 */
export class MongoApprovalStore {
  private readonly requests: Collection<RequestDoc>;
  private readonly decisions: Collection<DecisionDoc>;
  private readonly outcomes: Collection<OutcomeDoc>;

  constructor(db: Db, private readonly now: () => Date = () => new Date()) {
    this.requests = db.collection<RequestDoc>('approval_requests');
    this.decisions = db.collection<DecisionDoc>('approval_decisions');
    this.outcomes = db.collection<OutcomeDoc>('approval_outcomes');
  }

  /** Creates a pending request (or returns the one this requester made with the same idempotency key). */
  async create(spec: NewApprovalRequest): Promise<{ request: ApprovalRequest; created: boolean }> {
    const id = spec.idempotencyKey
      ? `apr-${createHash('sha256').update(`${spec.requester.subject}\n${spec.idempotencyKey}`).digest('hex').slice(0, 24)}`
      : `apr-${randomBytes(12).toString('hex')}`;
    const createdAt = this.now();
    const doc: RequestDoc = {
      _id: id,
      kind: 'restore',
      state: 'pending',
      tenant: spec.tenant,
      source: spec.source,
      restore: spec.restore,
      requester: { subject: spec.requester.subject, name: spec.requester.name },
      requiredApprovals: spec.requiredApprovals,
      createdAt,
      expiresAt: new Date(createdAt.getTime() + spec.expirySeconds * 1000),
      jobId: null,
      traceparent: spec.traceparent ?? null,
    };
    if (await insertOnce(this.requests, doc)) return { request: { ...doc, approvals: [], rejection: null }, created: true };
    const existing = await this.get(id);
    if (!existing) throw new ConflictError(`approval request ${id} vanished while being created`);
    return { request: existing, created: false };
  }

  /** A request with its approvals and outcome, or undefined. */
  async get(id: string): Promise<ApprovalRequest | undefined> {
    const doc = await this.requests.findOne({ _id: id });
    return doc ? (await this.complete([doc]))[0] : undefined;
  }

  /** Requests, newest first, optionally in some states and tenants (`undefined`: all tenants). */
  async list(filter: { states?: readonly ApprovalState[]; tenants?: readonly string[]; limit?: number } = {}): Promise<ApprovalRequest[]> {
    const q: Record<string, unknown> = {};
    if (filter.tenants) q.tenant = { $in: [...filter.tenants] };
    const docs = await this.requests.find(q).sort({ createdAt: -1 }).limit(filter.limit ?? 200).toArray();
    const all = await this.complete(docs);
    return filter.states?.length ? all.filter((r) => filter.states!.includes(r.state)) : all;
  }

  /**
   * Records one approval. `completed` is true for exactly one caller: the one whose approval
   * stored the outcome `approved` (it must then queue the job and call `markExecuted`). Throws
   * Forbidden for the requester, Conflict when already approved by this person, decided or past
   * its window.
   */
  async approve(id: string, approver: ApprovalActor): Promise<{ request: ApprovalRequest; completed: boolean }> {
    const at = this.now();
    const before = await this.get(id);
    if (!before) throw new NotFoundError(`approval request ${id} not found`);
    if (before.state !== 'pending') throw new ConflictError(`approval request ${id} is ${before.state}, not pending`);
    if (before.expiresAt <= at) throw new ConflictError(`approval request ${id} expired at ${before.expiresAt.toISOString()}`);
    if (before.requester.subject === approver.subject) throw new ForbiddenError(`${approver.name} requested ${id} and cannot approve it (dual control)`);
    const inserted = await insertOnce(this.decisions, { _id: `${id}\n${approver.subject}`, requestId: id, subject: approver.subject, name: approver.name, at });
    if (!inserted) throw new ConflictError(`${approver.name} has already approved ${id}`);
    const count = await this.decisions.countDocuments({ requestId: id });
    let completed = false;
    if (count >= before.requiredApprovals) {
      completed = await insertOnce(this.outcomes, { _id: id, outcome: 'approved', at, by: null, reason: null });
      if (completed) await this.requests.updateOne({ _id: id }, { $set: { state: 'approved' } });
    }
    const after = (await this.get(id))!;
    // Decided meanwhile (rejected or expired first): this approval came too late to count.
    if (!completed && after.state !== 'pending' && after.state !== 'approved' && after.state !== 'executed') {
      throw new ConflictError(`approval request ${id} was ${after.state} meanwhile`);
    }
    return { request: after, completed };
  }

  /** Rejects a pending request: it is over. */
  async reject(id: string, who: ApprovalActor, reason: string): Promise<ApprovalRequest> {
    const at = this.now();
    const before = await this.get(id);
    if (!before) throw new NotFoundError(`approval request ${id} not found`);
    if (before.state !== 'pending') throw new ConflictError(`approval request ${id} is ${before.state}, not pending`);
    if (before.expiresAt <= at) throw new ConflictError(`approval request ${id} expired at ${before.expiresAt.toISOString()}`);
    if (!(await insertOnce(this.outcomes, { _id: id, outcome: 'rejected', at, by: { subject: who.subject, name: who.name }, reason }))) {
      throw new ConflictError(`approval request ${id} was ${(await this.get(id))?.state ?? 'decided'} meanwhile`);
    }
    await this.requests.updateOne({ _id: id }, { $set: { state: 'rejected' } });
    return (await this.get(id))!;
  }

  /** Stores the outcome expired for pending requests past their window; returns those this call expired. */
  async expireDue(): Promise<ApprovalRequest[]> {
    const at = this.now();
    const due = await this.requests.find({ state: 'pending', expiresAt: { $lte: at } }).limit(500).toArray();
    const expired: ApprovalRequest[] = [];
    for (const d of due) {
      if (await insertOnce(this.outcomes, { _id: d._id, outcome: 'expired', at, by: null, reason: null })) {
        await this.requests.updateOne({ _id: d._id }, { $set: { state: 'expired' } });
        expired.push((await this.get(d._id))!);
      } else {
        // Decided by someone else who has not yet updated the cached state: let the cache follow.
        const outcome = await this.outcomes.findOne({ _id: d._id });
        if (outcome) await this.requests.updateOne({ _id: d._id, state: 'pending' }, { $set: { state: outcome.outcome } });
      }
    }
    return expired;
  }

  /** Expired requests whose expiry is not yet audited and announced (the audit log may have been down). */
  async unannouncedExpiries(): Promise<ApprovalRequest[]> {
    return this.complete(await this.requests.find({ state: 'expired', announced: { $ne: true } }).limit(500).toArray());
  }

  /** Records that a request's expiry is audited and announced. */
  async markAnnounced(id: string): Promise<void> {
    await this.requests.updateOne({ _id: id }, { $set: { announced: true } });
  }

  /** Approved requests without a recorded job for `graceMs` (their gateway stopped in between): re-queued with the same key. */
  async approvedNotExecuted(graceMs = 60_000): Promise<ApprovalRequest[]> {
    const before = new Date(this.now().getTime() - graceMs);
    const outcomes = await this.outcomes.find({ outcome: 'approved', at: { $lte: before } }).limit(500).toArray();
    if (outcomes.length === 0) return [];
    const docs = await this.requests.find({ _id: { $in: outcomes.map((o) => o._id) }, jobId: null }).toArray();
    return this.complete(docs);
  }

  /** Records the job of an approved request (the caller that won the outcome, or a recovery sweep). */
  async markExecuted(id: string, jobId: string): Promise<ApprovalRequest | undefined> {
    const r = await this.requests.updateOne({ _id: id, jobId: null }, { $set: { state: 'executed', jobId } });
    return r.matchedCount === 1 ? this.get(id) : undefined;
  }

  /** Joins approvals and outcomes; the state follows the outcome (the cached field may lag a crash). */
  private async complete(docs: RequestDoc[]): Promise<ApprovalRequest[]> {
    if (docs.length === 0) return [];
    const ids = docs.map((d) => d._id);
    const [decisions, outcomes] = await Promise.all([this.decisions.find({ requestId: { $in: ids } }).toArray(), this.outcomes.find({ _id: { $in: ids } }).toArray()]);
    const outcomeOf = new Map(outcomes.map((o) => [o._id, o]));
    return docs.map((d) => {
      const o = outcomeOf.get(d._id);
      const state: ApprovalState = d.jobId ? 'executed' : (o?.outcome ?? 'pending');
      const approvals = decisions
        .filter((x) => x.requestId === d._id)
        .sort((a, b) => a.at.getTime() - b.at.getTime() || a.subject.localeCompare(b.subject))
        .map((x) => ({ subject: x.subject, name: x.name, at: x.at }));
      const rejection = o?.outcome === 'rejected' && o.by ? { ...o.by, at: o.at, reason: o.reason ?? '' } : null;
      return { ...d, state, approvals, rejection };
    });
  }
}

/** Inserts a document; false when one with its `_id` exists (the unique index decided). */
async function insertOnce<T extends { _id: string }>(collection: Collection<T>, doc: T): Promise<boolean> {
  try {
    await collection.insertOne(doc as Parameters<Collection<T>['insertOne']>[0]);
    return true;
  } catch (err) {
    if ((err as { code?: number }).code === 11000) return false;
    throw err;
  }
}
