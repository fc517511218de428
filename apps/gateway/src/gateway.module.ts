import type { Type } from '@nestjs/common';
import { ApprovalsModule } from './approvals/approvals.module.js';
import { AssuranceModule } from './assurance/assurance.module.js';
import { AuditModule } from './audit/audit.module.js';
import { BackupsModule } from './backups/backups.module.js';
import { EventsModule } from './events/events.module.js';
import { FsckModule } from './fsck/fsck.module.js';
import { ClusterHealthModule } from './health/health.module.js';
import { JobsModule } from './jobs/jobs.module.js';
import { KeysModule } from './keys/keys.module.js';
import { RestoresModule } from './restores/restores.module.js';
import { RetentionModule } from './retention/retention.module.js';
import { SchedulesModule } from './schedules/schedules.module.js';
import { StorageModule } from './storage/storage.module.js';
import { TenantsModule } from './tenants/tenants.module.js';
import { TokensModule } from './tokens/tokens.module.js';

/** Every feature module of the gateway, one per folder; a new feature registers here. */
export const FEATURE_MODULES: Type[] = [TenantsModule, BackupsModule, RestoresModule, ApprovalsModule, JobsModule, EventsModule, SchedulesModule, StorageModule, ClusterHealthModule, TokensModule, AuditModule, AssuranceModule, RetentionModule, KeysModule, FsckModule];
