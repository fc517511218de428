import { Body, Controller, Get, Headers, HttpCode, Inject, Param, Post, Query, Req } from '@nestjs/common';
import type { Identity } from '@tresor/auth';
import { IDEMPOTENCY_KEY_HEADER } from '@tresor/contracts';
import { CurrentIdentity, RequirePermission } from '../auth/access.decorator.js';
import type { AuthenticatedRequest } from '../auth/access.decorator.js';
import { requestContext } from '../approvals/approvals.controller.js';
import { ApprovalsService } from '../approvals/approvals.service.js';
import { list, parse } from '../core/parse.js';
import { positiveInt } from '../core/query.js';
import { RestoresService } from './restores.service.js';
import { createRestoreRequestSchema } from './restores.schema.js';

/** The most entries a preview lists (its totals count them all). */
const MAX_PREVIEW = 5000;

/** Restore requests and their jobs. */
@Controller('v1/restores')
export class RestoresController {
  constructor(
    @Inject(RestoresService) private readonly restores: RestoresService,
    @Inject(ApprovalsService) private readonly approvals: ApprovalsService,
  ) {}

  @Post()
  @HttpCode(202)
  @RequirePermission('restores:create')
  create(@CurrentIdentity() who: Identity, @Body() body: unknown, @Req() request: AuthenticatedRequest, @Headers(IDEMPOTENCY_KEY_HEADER) key?: string, @Headers('traceparent') traceparent?: string) {
    const req = parse(createRestoreRequestSchema, body, 'POST /v1/restores');
    // 202 with { job }, or { approval } when the source is sensitive (dual control).
    return this.restores.create(who, req, { idempotencyKey: key ?? null, traceparent, context: requestContext(request) });
  }

  /** Which entries a restore would select (`backup` id or `latest`, or `at` a point in time of `source`), without restoring. */
  @Get('preview')
  @RequirePermission('restores:create')
  preview(@CurrentIdentity() who: Identity, @Query() query: Record<string, string | string[] | undefined>) {
    const one = (name: string): string | undefined => list(query[name])[0];
    return this.restores.preview(who, { backup: one('backup') ?? 'latest', at: one('at'), source: one('source'), include: list(query.include), exclude: list(query.exclude) }, positiveInt('limit', one('limit'), 200, MAX_PREVIEW));
  }

  /** The caller's own restore request under dual control: its approvals so far, and its job once executed. */
  @Get('requests/:id')
  @RequirePermission('restores:create')
  async request(@CurrentIdentity() who: Identity, @Param('id') id: string) {
    return { approval: await this.approvals.getOwn(who, id) };
  }

  @Get(':id')
  @RequirePermission('restores:read')
  async get(@CurrentIdentity() who: Identity, @Param('id') id: string) {
    return { job: await this.restores.get(who, id) };
  }
}
