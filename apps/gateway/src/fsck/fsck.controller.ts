import { Body, Controller, HttpCode, Inject, Post } from '@nestjs/common';
import type { Identity } from '@tresor/auth';
import { COMMANDS, fsckRequestSchema } from '@tresor/contracts';
import type { Bus } from '@tresor/messaging';
import { CurrentIdentity, RequirePermission } from '../auth/access.decorator.js';
import { parse } from '../core/parse.js';
import { BUS } from '../core/tokens.js';
import { TenantsService } from '../tenants/tenants.service.js';

/** fsck lists every object and, with readData, hashes every archive: the request waits for it, up to this long. */
const FSCK_TIMEOUT_MS = 30 * 60_000;

/** The repository check of the cluster (`tresor fsck --server`), run by the monitoring service. */
@Controller('v1/fsck')
export class FsckController {
  constructor(
    @Inject(BUS) private readonly bus: Bus,
    @Inject(TenantsService) private readonly tenants: TenantsService,
  ) {}

  /** Checks the catalog against the storage; with `repair`, deletes old orphans. Audited like every POST. */
  @Post()
  @HttpCode(200)
  @RequirePermission('repository:fsck')
  async run(@CurrentIdentity() who: Identity, @Body() body: unknown) {
    // The report names every tenant's backups and a repair deletes in all of them: an admin of some tenants may not.
    this.tenants.requireAllTenants(who, 'POST /v1/fsck');
    const req = parse(fsckRequestSchema, body ?? {}, 'POST /v1/fsck');
    const reply = await this.bus.request(COMMANDS.monitoringFsck, { v: 1, ...req }, { timeoutMs: FSCK_TIMEOUT_MS });
    return { report: reply.report };
  }
}
