import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { Db } from 'mongodb';
import { rolesAllow, tenantAllowed } from '@tresor/auth';
import type { Identity, PasswordLogin } from '@tresor/auth';
import { MongoApprovalStore, dualControlFromEnv, policyFor, toDto } from '@tresor/auth/approvals';
import type { ApprovalRequest, DualControlConfig, DualControlPolicy, RestoreParams } from '@tresor/auth/approvals';
import type { MongoJobStore } from '@tresor/catalog';
import { EVENTS } from '@tresor/contracts';
import type { ApprovalRequestDto, ApprovalState, AuditAppendInput, JobRecord } from '@tresor/contracts';
import { ForbiddenError, NotFoundError, RateLimitedError, TresorError, UnauthenticatedError } from '@tresor/errors';
import type { Bus } from '@tresor/messaging';
import { traceIdOf } from '@tresor/messaging';
import { appendAudit, auditRefusal } from '@tresor/service';
import { PASSWORD_LOGIN } from '../auth/auth.tokens.js';
import { BUS, JOB_STORE, MONGO_DB } from '../core/tokens.js';
import { queueRestore } from '../restores/queue-restore.js';
import { TenantsService } from '../tenants/tenants.service.js';

/** The dual-control configuration (TRESOR_DUAL_CONTROL); a provider so tests can replace it. */
export const DUAL_CONTROL = Symbol('DUAL_CONTROL');
export const APPROVAL_STORE = Symbol('APPROVAL_STORE');

/** Where a request came from, for the audit entry. */
export interface RequestContext {
  readonly ip: string | null;
  readonly userAgent: string | null;
  readonly requestId: string | null;
  readonly traceparent: string | undefined;
}

/** Pending requests past their window are expired (audited, announced) at least this often. */
const SWEEP_MS = 5_000;
const SYSTEM_ACTOR = { user: 'system:gateway', roles: [], ip: null, userAgent: null };

/**
 * Dual control for restores of sensitive sources: a restore request waits for approvals from M
 * distinct custodians (never the requester, each re-authenticating with their password) within a
 * window, then queues its restore job once (the request id is the job's idempotency key). Every
 * request, approval, rejection, expiry and execution is written to the audit chain before it takes
 * effect (a request the log cannot record is refused) and announced as an approval.* event.
 */
@Injectable()
export class ApprovalsService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('approvals');
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;

  constructor(
    @Inject(APPROVAL_STORE) private readonly store: MongoApprovalStore,
    @Inject(DUAL_CONTROL) private readonly config: DualControlConfig,
    @Inject(PASSWORD_LOGIN) private readonly passwords: PasswordLogin,
    @Inject(BUS) private readonly bus: Bus,
    @Inject(JOB_STORE) private readonly jobs: MongoJobStore,
    @Inject(TenantsService) private readonly tenants: TenantsService,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.sweep(), SWEEP_MS);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.sweeping;
  }

  /** Whether restores of this source need approvals. */
  sensitive(tenant: string, location: string): boolean {
    return policyFor(this.config, tenant, location).sensitive;
  }

  /** The policy for a restore of the source at this location. */
  async policy(location: string): Promise<DualControlPolicy & { tenant: string }> {
    const tenant = await this.tenants.ofLocation(location);
    return { tenant, ...policyFor(this.config, tenant, location) };
  }

  /** Creates a pending restore request (audited first, then announced). */
  async request(who: Identity, spec: { tenant: string; source: string; restore: RestoreParams; policy: DualControlPolicy }, ctx: RequestContext & { idempotencyKey: string | null }): Promise<ApprovalRequestDto> {
    await this.audit(who, ctx, 'approvals.request', spec.source, { backupId: spec.restore.backupId, target: spec.restore.target, tenant: spec.tenant, required: spec.policy.approvals });
    const { request, created } = await this.store.create({
      tenant: spec.tenant,
      source: spec.source,
      restore: spec.restore,
      requester: { subject: who.subject, name: who.name },
      requiredApprovals: spec.policy.approvals,
      expirySeconds: spec.policy.expirySeconds,
      idempotencyKey: ctx.idempotencyKey,
      ...(ctx.traceparent ? { traceparent: ctx.traceparent } : {}),
    });
    if (created) {
      await this.bus.publishEvent(
        EVENTS.approvalRequested,
        { requestId: request._id, kind: 'restore', tenant: request.tenant, source: request.source, backupId: request.restore.backupId, requester: who.name, required: request.requiredApprovals, expiresAt: request.expiresAt.toISOString() },
        { subject: request._id, id: `${request._id}.requested`, ...(ctx.traceparent ? { traceparent: ctx.traceparent } : {}) },
      );
    }
    return toDto(request);
  }

  /** Requests of the caller's tenants, newest first. */
  async list(who: Identity, states?: readonly ApprovalState[]): Promise<ApprovalRequestDto[]> {
    await this.sweep();
    const tenants = this.tenants.seesAll(who) ? undefined : who.tenants;
    return (await this.store.list({ ...(states ? { states } : {}), ...(tenants ? { tenants } : {}) })).map(toDto);
  }

  /** One request of the caller's tenants. */
  async get(who: Identity, id: string): Promise<ApprovalRequestDto> {
    await this.sweep();
    return toDto(await this.visible(who, id));
  }

  /** A request the caller made themselves (the requester follows it without approvals:read); NotFound for anyone else's. */
  async getOwn(who: Identity, id: string): Promise<ApprovalRequestDto> {
    await this.sweep();
    const r = await this.visible(who, id);
    if (r.requester.subject !== who.subject) throw new NotFoundError(`restore request ${id} not found`);
    return toDto(r);
  }

  /**
   * Approves after re-authenticating the caller with their password; the approval that completes
   * the request queues the restore job and returns it.
   */
  async approve(who: Identity, id: string, password: string, ctx: RequestContext): Promise<{ approval: ApprovalRequestDto; job: JobRecord | null }> {
    await this.sweep();
    const before = await this.visible(who, id);
    const details = { tenant: before.tenant, source: before.source, backupId: before.restore.backupId };
    try {
      await this.reauthenticate(who, password, ctx);
    } catch (err) {
      await this.auditFailure(who, ctx, 'approvals.approve', id, { ...details, error: err instanceof TresorError ? err.code : 'INTERNAL', reason: 're-authentication failed' });
      throw err;
    }
    await this.audit(who, ctx, 'approvals.approve', id, details);
    let result: { request: ApprovalRequest; completed: boolean };
    try {
      result = await this.store.approve(id, { subject: who.subject, name: who.name });
    } catch (err) {
      await this.auditFailure(who, ctx, 'approvals.approve', id, { ...details, error: err instanceof TresorError ? err.code : 'INTERNAL' });
      throw err;
    }
    const { request, completed } = result;
    await this.bus.publishEvent(
      EVENTS.approvalGranted,
      { requestId: id, approver: who.name, count: request.approvals.length, required: request.requiredApprovals },
      { subject: id, id: `${id}.granted.${who.subject}`, ...(ctx.traceparent ? { traceparent: ctx.traceparent } : {}) },
    );
    if (!completed) return { approval: toDto(request), job: null };
    const executed = await this.execute(request, { user: who.name, roles: [...who.roles], ip: ctx.ip, userAgent: ctx.userAgent }, ctx);
    return executed;
  }

  /** Rejects a pending request (any one custodian may); it never executes. */
  async reject(who: Identity, id: string, reason: string, ctx: RequestContext): Promise<ApprovalRequestDto> {
    await this.sweep();
    const before = await this.visible(who, id);
    await this.audit(who, ctx, 'approvals.reject', id, { tenant: before.tenant, source: before.source, backupId: before.restore.backupId, reason });
    let request: ApprovalRequest;
    try {
      request = await this.store.reject(id, { subject: who.subject, name: who.name }, reason);
    } catch (err) {
      await this.auditFailure(who, ctx, 'approvals.reject', id, { error: err instanceof TresorError ? err.code : 'INTERNAL' });
      throw err;
    }
    await this.bus.publishEvent(EVENTS.approvalRejected, { requestId: id, rejecter: who.name, reason }, { subject: id, id: `${id}.rejected`, ...(ctx.traceparent ? { traceparent: ctx.traceparent } : {}) });
    return toDto(request);
  }

  /** Expires pending requests past their window and re-queues approved ones whose job was not recorded. */
  sweep(): Promise<void> {
    // One sweep at a time per process; other replicas race safely on the unique-id outcome.
    this.sweeping ??= (async () => {
      try {
        await this.store.expireDue();
        // Expiry is a fact of time, stored first; its audit entry and event follow, retried by
        // every sweep until both are out (the entry id and the event id make repeats harmless).
        for (const r of await this.store.unannouncedExpiries()) {
          await appendAudit(this.bus, { id: `approval:${r._id}:expired`, actor: SYSTEM_ACTOR, action: 'approvals.expire', target: r._id, outcome: 'success', requestId: null, traceId: traceIdOf(r.traceparent ?? undefined) ?? null, details: { tenant: r.tenant, source: r.source, approvals: r.approvals.length, required: r.requiredApprovals } });
          await this.bus.publishEvent(EVENTS.approvalExpired, { requestId: r._id, count: r.approvals.length, required: r.requiredApprovals }, { subject: r._id, id: `${r._id}.expired` });
          await this.store.markAnnounced(r._id);
        }
        for (const r of await this.store.approvedNotExecuted()) await this.execute(r, SYSTEM_ACTOR, { ip: null, userAgent: null, requestId: null, traceparent: r.traceparent ?? undefined });
      } catch (err) {
        // The next sweep retries; the audit id and the job's idempotency key make that safe.
        this.logger.warn(`approval sweep failed: ${err instanceof TresorError ? err.message : 'internal error'}`);
      } finally {
        this.sweeping = undefined;
      }
    })();
    return this.sweeping;
  }

  /** Queues the restore of an approved request (once: the request id is the idempotency key) and marks it executed. */
  private async execute(request: ApprovalRequest, actor: AuditAppendInput['actor'], ctx: RequestContext): Promise<{ approval: ApprovalRequestDto; job: JobRecord }> {
    const approvers = request.approvals.map((a) => a.name);
    await appendAudit(this.bus, {
      id: `approval:${request._id}:executed`,
      actor,
      action: 'approvals.execute',
      target: request._id,
      outcome: 'success',
      requestId: ctx.requestId,
      traceId: traceIdOf(ctx.traceparent) ?? null,
      details: { tenant: request.tenant, source: request.source, backupId: request.restore.backupId, target: request.restore.target, requester: request.requester.name, approvers },
    });
    const job = await queueRestore(this.bus, this.jobs, request.restore, `approval:${request._id}`, request.traceparent ?? ctx.traceparent);
    const executed = (await this.store.markExecuted(request._id, job.id)) ?? (await this.store.get(request._id)) ?? request;
    await this.bus.publishEvent(EVENTS.approvalExecuted, { requestId: request._id, jobId: job.id, approvers }, { subject: request._id, id: `${request._id}.executed` });
    return { approval: toDto(executed), job };
  }

  /** The caller's password again, through the same login path (throttle and lockout included). */
  private async reauthenticate(who: Identity, password: string, ctx: RequestContext): Promise<void> {
    if (who.kind !== 'ldap' && who.kind !== 'local') throw new ForbiddenError(`approvals need a person who can re-authenticate with a password; ${who.name} is a ${who.kind} identity`);
    let again: Identity;
    try {
      again = await this.passwords.login(who.name, password, ctx.ip ?? 'unknown');
    } catch (err) {
      if (err instanceof RateLimitedError) throw err;
      // 403, not 401: the session is fine, the confirmation failed (and clients must not refresh and retry).
      if (err instanceof UnauthenticatedError) throw new ForbiddenError(`re-authentication failed: the password of ${who.name} was not accepted`);
      throw err;
    }
    // The directory is asked afresh: a custodian removed from the group since login cannot approve.
    if (again.subject !== who.subject || !rolesAllow(again.roles, 'approvals:decide')) throw new ForbiddenError(`${who.name} is no longer a custodian`);
  }

  /** NotFound unless the request is in one of the caller's tenants. */
  private async visible(who: Identity, id: string): Promise<ApprovalRequest> {
    const r = await this.store.get(id);
    if (!r || !tenantAllowed(who.tenants, r.tenant)) throw new NotFoundError(`approval request ${id} not found`);
    return r;
  }

  private async audit(who: Identity, ctx: RequestContext, action: string, target: string, details: Record<string, unknown>): Promise<void> {
    try {
      await appendAudit(this.bus, this.entry(who, ctx, action, target, 'success', details));
    } catch (err) {
      throw auditRefusal(err);
    }
  }

  /** Best effort: the refusal is what the caller sees; `denied` when a control said no (own request, password). */
  private async auditFailure(who: Identity, ctx: RequestContext, action: string, target: string, details: Record<string, unknown> & { error: string }): Promise<void> {
    const outcome = details.error === 'FORBIDDEN' || details.error === 'RATE_LIMITED' ? 'denied' : 'failure';
    await appendAudit(this.bus, this.entry(who, ctx, action, target, outcome, details)).catch(() => undefined);
  }

  private entry(who: Identity, ctx: RequestContext, action: string, target: string, outcome: 'success' | 'failure' | 'denied', details: Record<string, unknown>): AuditAppendInput {
    return {
      id: `approval:${randomUUID()}`,
      actor: { user: who.name, roles: [...who.roles], ip: ctx.ip, userAgent: ctx.userAgent },
      action,
      target,
      outcome,
      requestId: ctx.requestId,
      traceId: traceIdOf(ctx.traceparent) ?? null,
      details: { ...details, subject: who.subject },
    };
  }
}

/** Builds the store from the gateway's database. */
export const approvalStoreProvider = { provide: APPROVAL_STORE, inject: [MONGO_DB], useFactory: (db: Db) => new MongoApprovalStore(db) };
/** Reads TRESOR_DUAL_CONTROL once at start; a bad value stops the gateway naming the field. */
export const dualControlProvider = { provide: DUAL_CONTROL, useFactory: () => dualControlFromEnv() };
