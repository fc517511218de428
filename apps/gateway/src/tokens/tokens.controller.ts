import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ALL_TENANTS, tenantAllowed } from '@tresor/auth';
import type { Identity, MongoApiTokenStore } from '@tresor/auth';
import { ForbiddenError } from '@tresor/errors';
import { CurrentIdentity, RequirePermission } from '../auth/access.decorator.js';
import { API_TOKENS } from '../auth/auth.tokens.js';
import { parse } from '../core/parse.js';
import { createApiTokenRequestSchema } from './tokens.schema.js';

/** API tokens for automation: created by admins, shown once, revocable. */
@Controller('v1/tokens')
export class TokensController {
  constructor(@Inject(API_TOKENS) private readonly tokens: MongoApiTokenStore) {}

  @Post()
  @HttpCode(201)
  @RequirePermission('tokens:manage')
  create(@Body() body: unknown, @CurrentIdentity() who: Identity) {
    const req = parse(createApiTokenRequestSchema, body, 'POST /v1/tokens');
    const tenants = req.tenants ?? [...who.tenants];
    // A token never reaches further than its creator: no tenant the creator lacks.
    const beyond = tenants.filter((t) => (t === ALL_TENANTS ? !who.tenants.includes(ALL_TENANTS) : !tenantAllowed(who.tenants, t)));
    if (beyond.length) throw new ForbiddenError(`${who.name} cannot grant tenants ${beyond.join(', ')} (not granted to ${who.name})`);
    return this.tokens.create({ name: req.name, roles: req.roles, tenants, ttlSeconds: req.ttlSeconds, createdBy: who.subject });
  }

  @Get()
  @RequirePermission('tokens:manage')
  async list() {
    return { tokens: await this.tokens.list() };
  }

  @Delete(':id')
  @HttpCode(204)
  @RequirePermission('tokens:manage')
  async revoke(@Param('id') id: string) {
    await this.tokens.revoke(id);
  }
}
