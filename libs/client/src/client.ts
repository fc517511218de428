import { randomBytes, randomUUID } from 'node:crypto';
import type { z } from 'zod';
import {
  createApiTokenResponseSchema,
  errorBodySchema,
  listApiTokensResponseSchema,
  meResponseSchema,
  oidcSettingsResponseSchema,
  sessionResponseSchema,
  getBackupResponseSchema,
  jobResponseSchema,
  listBackupsResponseSchema,
  listJobsResponseSchema,
  listSchedulesResponseSchema,
  listSourcesResponseSchema,
  runScheduleResponseSchema,
  scheduleResponseSchema,
  storageLocationsResponseSchema,
} from '@tresor/contracts';
import { z as zod } from 'zod';
import type { ApiTokenInfoDto, CreateApiTokenRequest, MeResponse, OidcSettingsResponse, SessionResponse } from '@tresor/contracts';
import { auditEntriesResponseSchema, auditVerifyReportSchema } from '@tresor/contracts';
import { approvalResponseSchema, approveResponseSchema, createRestoreResponseSchema, listApprovalsResponseSchema } from '@tresor/contracts';
import type { ApprovalRequestDto, ApprovalState, CreateRestoreResponse } from '@tresor/contracts';
import type { AuditEntriesResponse, AuditVerifyReport } from '@tresor/contracts';
import type { CreateBackupRequest, CreateRestoreRequest, CreateScheduleRequest, GetBackupResponse, JobRecord, ListedBackup, ScheduleRecord } from '@tresor/contracts';
import { complianceReportResponseSchema, listAlertsResponseSchema, listDrillsResponseSchema, runDrillResponseSchema } from '@tresor/contracts';
import type { AlertLevel, AlertState, ComplianceReport, DrillRecord, ListAlertsResponse, RunDrillRequest } from '@tresor/contracts';
import { fsckResponseSchema } from '@tresor/contracts';
import type { FsckReportRecord, FsckRequest } from '@tresor/contracts';
import { ConflictError, errorFromCode, IoError, TresorError, UnavailableError } from '@tresor/errors';

export interface TresorClientOptions {
  /** Base URL of the gateway, e.g. `http://127.0.0.1:8420`. */
  readonly url: string;
  /** Session access token (`tresor login`) or API token, sent as a bearer token; default: TRESOR_TOKEN. */
  readonly token?: string;
  /** Interval between polls while waiting for a job. */
  readonly pollMs?: number;
  /** Called once when the gateway answers 401: returns a new token to retry with (e.g. after a refresh), or undefined. */
  readonly onUnauthenticated?: () => Promise<string | undefined>;
}

/** The gateway answered with an error: `code` is the Tresor error code, `status` the HTTP status. */
export class TresorApiError extends TresorError {
  constructor(message: string, code: string, readonly status: number) {
    super(message, code);
  }
}

/**
 * A typed client of the gateway API: `new TresorClient({ url }).backups.create({ source })`.
 * Errors are the TresorError subclasses the server named (UsageError, NotFoundError, ...), so
 * callers keep their exit codes.
 */
export class TresorClient {
  readonly backups = {
    create: (request: CreateBackupRequest, options: { idempotencyKey?: string } = {}): Promise<JobRecord> =>
      this.post('/v1/backups', request, jobResponseSchema, options.idempotencyKey).then((r) => r.job),
    list: (query: { source?: string } = {}): Promise<ListedBackup[]> =>
      this.get(`/v1/backups${query.source ? `?source=${encodeURIComponent(query.source)}` : ''}`, listBackupsResponseSchema).then((r) => r.backups),
    get: (id: string, query: { entries?: boolean; include?: readonly string[]; exclude?: readonly string[] } = {}): Promise<GetBackupResponse> => {
      const params = new URLSearchParams();
      if (query.entries) params.set('entries', 'true');
      for (const p of query.include ?? []) params.append('include', p);
      for (const p of query.exclude ?? []) params.append('exclude', p);
      const qs = params.toString();
      return this.get(`/v1/backups/${encodeURIComponent(id)}${qs ? `?${qs}` : ''}`, getBackupResponseSchema);
    },
    verify: (id: string, options: { deep?: boolean; idempotencyKey?: string } = {}): Promise<JobRecord> =>
      this.post(`/v1/backups/${encodeURIComponent(id)}/verify`, { deep: options.deep ?? false }, jobResponseSchema, options.idempotencyKey).then((r) => r.job),
    /** Requests a restore (alias of `restores.create`). */
    restore: (request: CreateRestoreRequest, options: { idempotencyKey?: string } = {}): Promise<JobRecord> => this.restores.create(request, options),
  };

  readonly restores = {
    /** Requests a restore: its job, or for a sensitive source the approval request (dual control) that will queue it. */
    request: (request: CreateRestoreRequest, options: { idempotencyKey?: string } = {}): Promise<CreateRestoreResponse> =>
      this.post('/v1/restores', request, createRestoreResponseSchema, options.idempotencyKey),
    /** Requests a restore that needs no approval; a sensitive source's restore throws (use `request`). */
    create: async (request: CreateRestoreRequest, options: { idempotencyKey?: string } = {}): Promise<JobRecord> => {
      const r = await this.restores.request(request, options);
      if ('job' in r) return r.job;
      throw new ConflictError(`the restore waits for dual control: approval request ${r.approval.id} needs ${r.approval.requiredApprovals} custodian approvals (tresor approvals approve ${r.approval.id})`);
    },
    get: (id: string): Promise<JobRecord> => this.get(`/v1/restores/${encodeURIComponent(id)}`, jobResponseSchema).then((r) => r.job),
  };

  /** Dual control: restore requests of sensitive sources and the custodians' decisions. */
  readonly approvals = {
    list: (query: { state?: ApprovalState[] } = {}): Promise<ApprovalRequestDto[]> =>
      this.get(`/v1/approvals${query.state?.length ? `?${query.state.map((s) => `state=${s}`).join('&')}` : ''}`, listApprovalsResponseSchema).then((r) => r.approvals),
    get: (id: string): Promise<ApprovalRequestDto> => this.get(`/v1/approvals/${encodeURIComponent(id)}`, approvalResponseSchema).then((r) => r.approval),
    /** Approves with the caller's password (re-authentication); the job when this was the last approval needed. */
    approve: (id: string, password: string): Promise<{ approval: ApprovalRequestDto; job: JobRecord | null }> =>
      this.call('POST', `/v1/approvals/${encodeURIComponent(id)}/approve`, { password }, approveResponseSchema),
    reject: (id: string, reason: string): Promise<ApprovalRequestDto> =>
      this.call('POST', `/v1/approvals/${encodeURIComponent(id)}/reject`, { reason }, approvalResponseSchema).then((r) => r.approval),
  };

  readonly jobs = {
    get: (id: string): Promise<JobRecord> => this.get(`/v1/jobs/${encodeURIComponent(id)}`, jobResponseSchema).then((r) => r.job),
    list: (): Promise<JobRecord[]> => this.get('/v1/jobs', listJobsResponseSchema).then((r) => r.jobs),
    /** Polls until the job is completed or failed; a failed job throws the error it recorded. */
    wait: async (id: string, onUpdate?: (job: JobRecord) => void): Promise<JobRecord> => {
      for (;;) {
        const job = await this.jobs.get(id);
        onUpdate?.(job);
        if (job.state === 'completed') return job;
        if (job.state === 'failed') throw errorOf(job.error?.code ?? 'FAILURE', job.error?.message ?? `job ${id} failed`, 200);
        await new Promise((r) => setTimeout(r, this.options.pollMs ?? 250));
      }
    },
  };

  readonly schedules = {
    create: (request: CreateScheduleRequest): Promise<ScheduleRecord> => this.post('/v1/schedules', request, scheduleResponseSchema).then((r) => r.schedule),
    list: (): Promise<ScheduleRecord[]> => this.get('/v1/schedules', listSchedulesResponseSchema).then((r) => r.schedules),
    get: (id: string): Promise<ScheduleRecord> => this.get(`/v1/schedules/${encodeURIComponent(id)}`, scheduleResponseSchema).then((r) => r.schedule),
    delete: (id: string): Promise<void> => this.call('DELETE', `/v1/schedules/${encodeURIComponent(id)}`, undefined, zod.undefined()).then(() => undefined),
    /** Stops firing; runs due while paused never fire. */
    pause: (id: string): Promise<ScheduleRecord> => this.post(`/v1/schedules/${encodeURIComponent(id)}/pause`, undefined, scheduleResponseSchema).then((r) => r.schedule),
    /** Fires again from the next due time. */
    resume: (id: string): Promise<ScheduleRecord> => this.post(`/v1/schedules/${encodeURIComponent(id)}/resume`, undefined, scheduleResponseSchema).then((r) => r.schedule),
    /** Submits the schedule's backup now (at the level its plan gives now); the job. */
    run: (id: string, idempotencyKey?: string): Promise<JobRecord> => this.post(`/v1/schedules/${encodeURIComponent(id)}/run`, undefined, runScheduleResponseSchema, idempotencyKey).then((r) => r.job),
  };

  readonly auth = {
    /** Logs in with a username and password (LDAP or break-glass); returns the session tokens. */
    login: (username: string, password: string): Promise<SessionResponse> => this.call('POST', '/v1/auth/login', { username, password }, sessionResponseSchema, undefined, false),
    /** Exchanges a refresh token (once) for a new pair. */
    refresh: (refreshToken: string): Promise<SessionResponse> => this.call('POST', '/v1/auth/refresh', { refreshToken }, sessionResponseSchema, undefined, false),
    /** Ends the session of the current token at once. */
    logout: (): Promise<void> => this.call('POST', '/v1/auth/logout', undefined, zod.undefined(), undefined, false).then(() => undefined),
    me: (): Promise<MeResponse> => this.get('/v1/auth/me', meResponseSchema),
    /** Single sign-on: where to send the browser (authorization code + PKCE). */
    oidcSettings: (): Promise<OidcSettingsResponse> => this.call('GET', '/v1/auth/oidc', undefined, oidcSettingsResponseSchema, undefined, false),
    /** Single sign-on: redeems the code the browser brought back for a session. */
    oidcLogin: (code: string, codeVerifier: string, redirectUri: string): Promise<SessionResponse> =>
      this.call('POST', '/v1/auth/oidc', { code, codeVerifier, redirectUri }, sessionResponseSchema, undefined, false),
  };

  readonly tokens = {
    /** Creates an API token; the returned `token` is shown this once. */
    create: (request: CreateApiTokenRequest) => this.call('POST', '/v1/tokens', request, createApiTokenResponseSchema),
    list: (): Promise<ApiTokenInfoDto[]> => this.get('/v1/tokens', listApiTokensResponseSchema).then((r) => r.tokens),
    revoke: (id: string): Promise<void> => this.call('DELETE', `/v1/tokens/${encodeURIComponent(id)}`, undefined, zod.undefined()).then(() => undefined),
  };

  readonly sources = { list: () => this.get('/v1/sources', listSourcesResponseSchema).then((r) => r.sources) };
  readonly audit = {
    /** Recomputes the cluster's audit hash chain (GET /v1/audit/verify). */
    verify: (): Promise<AuditVerifyReport> => this.get('/v1/audit/verify', zod.object({ report: auditVerifyReportSchema })).then((r) => r.report),
    /** One page of audit entries from seq `from`; `next` continues, null at the end. */
    entries: (from = 1, limit = 100): Promise<AuditEntriesResponse> => this.get(`/v1/audit/entries?from=${from}&limit=${limit}`, auditEntriesResponseSchema),
  };
  readonly alerts = {
    /** One page of the alert history, newest raised first; pass `next` as `before` for the next page. */
    list: (query: { state?: AlertState; levels?: readonly AlertLevel[]; source?: string; rule?: string; since?: Date; before?: string; limit?: number } = {}): Promise<ListAlertsResponse> => {
      const p = new URLSearchParams();
      if (query.state) p.set('state', query.state);
      if (query.levels?.length) p.set('level', query.levels.join(','));
      if (query.source) p.set('source', query.source);
      if (query.rule) p.set('rule', query.rule);
      if (query.since) p.set('since', query.since.toISOString());
      if (query.before) p.set('before', query.before);
      if (query.limit) p.set('limit', String(query.limit));
      return this.get(`/v1/alerts${p.size ? `?${p}` : ''}`, listAlertsResponseSchema);
    },
  };
  readonly drills = {
    /** Drill records, newest finished first. */
    list: (query: { source?: string; outcome?: 'ok' | 'failed'; since?: Date; limit?: number } = {}): Promise<DrillRecord[]> => {
      const p = new URLSearchParams();
      if (query.source) p.set('source', query.source);
      if (query.outcome) p.set('outcome', query.outcome);
      if (query.since) p.set('since', query.since.toISOString());
      if (query.limit) p.set('limit', String(query.limit));
      return this.get(`/v1/drills${p.size ? `?${p}` : ''}`, listDrillsResponseSchema).then((r) => r.drills);
    },
    /** Runs a drill now (the monitoring service) and returns its records once it finished. */
    run: (request: RunDrillRequest = {}): Promise<DrillRecord[]> => this.post('/v1/drills', request, runDrillResponseSchema).then((r) => r.drills),
  };
  readonly compliance = {
    /** The cluster's compliance report (JSON; the CLI renders text and HTML from it). */
    report: (): Promise<ComplianceReport> => this.get('/v1/compliance/report', complianceReportResponseSchema).then((r) => r.report),
  };
  readonly repository = {
    /** The cluster's fsck (admins): the catalog against the storage; with `repair`, deletes old orphans. */
    fsck: (request: FsckRequest = {}): Promise<FsckReportRecord> => this.post('/v1/fsck', request, fsckResponseSchema).then((r) => r.report),
  };
  readonly storage = { locations: () => this.get('/v1/storage/locations', storageLocationsResponseSchema).then((r) => r.locations) };

  private readonly base: string;

  private token: string | undefined;

  constructor(private readonly options: TresorClientOptions) {
    this.base = options.url.replace(/\/+$/, '');
    this.token = options.token ?? process.env.TRESOR_TOKEN;
  }

  private get<S extends z.ZodType>(path: string, schema: S): Promise<z.infer<S>> {
    return this.call('GET', path, undefined, schema);
  }

  private post<S extends z.ZodType>(path: string, body: unknown, schema: S, idempotencyKey?: string): Promise<z.infer<S>> {
    return this.call('POST', path, body, schema, idempotencyKey ?? randomUUID());
  }

  private async call<S extends z.ZodType>(method: string, path: string, body: unknown, schema: S, idempotencyKey?: string, retryOn401 = true): Promise<z.infer<S>> {
    try {
      return await this.send(method, path, body, schema, idempotencyKey);
    } catch (err) {
      if (!(retryOn401 && err instanceof TresorError && err.code === 'UNAUTHENTICATED' && this.options.onUnauthenticated)) throw err;
      const fresh = await this.options.onUnauthenticated();
      if (!fresh) throw err;
      this.token = fresh;
      return this.send(method, path, body, schema, idempotencyKey);
    }
  }

  private async send<S extends z.ZodType>(method: string, path: string, body: unknown, schema: S, idempotencyKey?: string): Promise<z.infer<S>> {
    const headers: Record<string, string> = {
      accept: 'application/json',
      traceparent: `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`,
    };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let response: Response;
    try {
      response = await fetch(`${this.base}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new UnavailableError(`cannot reach the Tresor gateway at ${this.base}: ${cause}`, { cause: err });
    }
    const text = await response.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      throw new IoError(`the gateway at ${this.base} answered ${method} ${path} with ${response.status} and a body that is not JSON`);
    }
    if (!response.ok) {
      const e = errorBodySchema.safeParse(json);
      if (e.success) throw errorOf(e.data.error.code, e.data.error.message, response.status);
      throw new TresorApiError(`the gateway answered ${method} ${path} with HTTP ${response.status}`, 'HTTP', response.status);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw new IoError(`unexpected answer from the gateway to ${method} ${path}: ${parsed.error.issues[0]?.message}`);
    return parsed.data;
  }
}

function errorOf(code: string, message: string, status: number): TresorError {
  return errorFromCode(code, message) ?? new TresorApiError(message, code, status);
}
