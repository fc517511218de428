import { Controller, Get, Headers, Inject } from '@nestjs/common';
import { COMMANDS } from '@tresor/contracts';
import type { Bus } from '@tresor/messaging';
import { RequirePermission } from '../auth/access.decorator.js';
import { BUS } from '../core/tokens.js';

/** Storage locations, asked of the storage-gateway service (the gateway never touches storage). */
@Controller('v1/storage')
export class StorageController {
  constructor(@Inject(BUS) private readonly bus: Bus) {}

  @Get('locations')
  @RequirePermission('storage:read')
  async locations(@Headers('traceparent') traceparent?: string) {
    const { locations } = await this.bus.request(COMMANDS.storageLocations, { v: 1 }, traceparent ? { traceparent } : {});
    return { locations };
  }
}
