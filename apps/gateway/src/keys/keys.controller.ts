import { Controller, Get, Inject } from '@nestjs/common';
import { COMMANDS } from '@tresor/contracts';
import type { Bus } from '@tresor/messaging';
import { RequirePermission } from '../auth/access.decorator.js';
import { BUS } from '../core/tokens.js';

/** Reading every KEK version object through the storage gateway. */
const KEYS_TIMEOUT_MS = 30_000;

/**
 * The repository's KEK versions and providers. The monitoring service reads them (as for its
 * cryptoperiod check): the gateway holds no repository and no key, and the answer holds no key material.
 */
@Controller('v1/keys')
export class KeysController {
  constructor(@Inject(BUS) private readonly bus: Bus) {}

  /** `{ keys }`: providers, versions with age against cryptoperiod, and warnings. */
  @Get()
  @RequirePermission('keys:read')
  async overview() {
    const reply = await this.bus.request(COMMANDS.monitoringKeys, { v: 1 }, { timeoutMs: KEYS_TIMEOUT_MS });
    return { keys: reply.keys };
  }
}
