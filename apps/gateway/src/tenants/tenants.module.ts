import { Global, Module } from '@nestjs/common';
import { TenantsService } from './tenants.service.js';

/** Source tenants, used by every feature that touches sources, backups, jobs or schedules. */
@Global()
@Module({ providers: [TenantsService], exports: [TenantsService] })
export class TenantsModule {}
