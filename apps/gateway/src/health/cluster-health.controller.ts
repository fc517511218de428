import { Controller, Get, Inject } from '@nestjs/common';
import { COMMANDS } from '@tresor/contracts';
import type { Bus } from '@tresor/messaging';
import { RequirePermission } from '../auth/access.decorator.js';
import { BUS } from '../core/tokens.js';

/** Cluster health as the monitoring service sees it (process health is the service kit's /health/*). */
@Controller('v1/health')
export class ClusterHealthController {
  constructor(@Inject(BUS) private readonly bus: Bus) {}

  @Get()
  @RequirePermission('health:read')
  async health() {
    try {
      const s = await this.bus.request(COMMANDS.monitoringStatus, { v: 1 }, { timeoutMs: 3000 });
      return { status: s.services.every((x) => x.ready) ? 'ok' : 'degraded', services: s.services, jobs: s.jobs };
    } catch {
      return { status: 'degraded', services: [], jobs: { completed: 0, failed: 0 } };
    }
  }
}
