import { Module } from '@nestjs/common';
import { ApprovalsModule } from '../approvals/approvals.module.js';
import { BackupsController } from './backups.controller.js';
import { BackupsService } from './backups.service.js';

/** Sources, backups and verification. */
@Module({ imports: [ApprovalsModule], controllers: [BackupsController], providers: [BackupsService], exports: [BackupsService] })
export class BackupsModule {}
