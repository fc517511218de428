import { Module } from '@nestjs/common';
import { BackupsModule } from '../backups/backups.module.js';
import { RetentionController } from './retention.controller.js';
import { RetentionService } from './retention.service.js';

/** Retention previews of a policy over a source's backups. */
@Module({ imports: [BackupsModule], controllers: [RetentionController], providers: [RetentionService] })
export class RetentionModule {}
