import type { Type } from '@nestjs/common';
import { BackupsModule } from './backups/backups.module.js';
import { ClusterHealthModule } from './health/health.module.js';
import { JobsModule } from './jobs/jobs.module.js';
import { RestoresModule } from './restores/restores.module.js';
import { SchedulesModule } from './schedules/schedules.module.js';
import { StorageModule } from './storage/storage.module.js';

/** Every feature module of the gateway, one per folder; a new feature registers here. */
export const FEATURE_MODULES: Type[] = [BackupsModule, RestoresModule, JobsModule, SchedulesModule, StorageModule, ClusterHealthModule];
