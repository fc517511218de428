import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Req } from '@nestjs/common';
import type { Identity } from '@tresor/auth';
import { APPROVAL_STATES } from '@tresor/contracts';
import type { ApprovalState } from '@tresor/contracts';
import { UsageError } from '@tresor/errors';
import { traceIdOf } from '@tresor/messaging';
import { CurrentIdentity, RequirePermission } from '../auth/access.decorator.js';
import type { AuthenticatedRequest } from '../auth/access.decorator.js';
import { list, parse } from '../core/parse.js';
import { ApprovalsService } from './approvals.service.js';
import type { RequestContext } from './approvals.service.js';
import { approveRequestSchema, rejectRequestSchema } from './approvals.schema.js';

/** Dual control: list, show, approve and reject restore requests of sensitive sources. */
@Controller('v1/approvals')
export class ApprovalsController {
  constructor(@Inject(ApprovalsService) private readonly approvals: ApprovalsService) {}

  @Get()
  @RequirePermission('approvals:read')
  async list(@CurrentIdentity() who: Identity, @Query('state') state?: string | string[]) {
    const states = list(state);
    const bad = states.find((s) => !(APPROVAL_STATES as readonly string[]).includes(s));
    if (bad) throw new UsageError(`state '${bad}' is not one of ${APPROVAL_STATES.join(', ')}`);
    return { approvals: await this.approvals.list(who, states.length ? (states as ApprovalState[]) : undefined) };
  }

  @Get(':id')
  @RequirePermission('approvals:read')
  async get(@CurrentIdentity() who: Identity, @Param('id') id: string) {
    return { approval: await this.approvals.get(who, id) };
  }

  @Post(':id/approve')
  @HttpCode(200)
  @RequirePermission('approvals:decide')
  approve(@CurrentIdentity() who: Identity, @Param('id') id: string, @Body() body: unknown, @Req() req: AuthenticatedRequest) {
    const { password } = parse(approveRequestSchema, body, 'POST /v1/approvals/:id/approve');
    return this.approvals.approve(who, id, password, requestContext(req));
  }

  @Post(':id/reject')
  @HttpCode(200)
  @RequirePermission('approvals:decide')
  async reject(@CurrentIdentity() who: Identity, @Param('id') id: string, @Body() body: unknown, @Req() req: AuthenticatedRequest) {
    const { reason } = parse(rejectRequestSchema, body, 'POST /v1/approvals/:id/reject');
    return { approval: await this.approvals.reject(who, id, reason, requestContext(req)) };
  }
}

/** Who sent the request from where, for the audit entries of dual control. */
export function requestContext(req: AuthenticatedRequest & { id?: string }): RequestContext {
  const header = (name: string): string | undefined => {
    const v = req.headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const traceparent = header('traceparent');
  return {
    ip: req.ip ?? null,
    userAgent: header('user-agent')?.slice(0, 512) ?? null,
    requestId: (header('x-request-id') ?? req.id ?? null)?.slice(0, 200) ?? null,
    traceparent: traceIdOf(traceparent) ? traceparent : undefined,
  };
}
