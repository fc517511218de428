import { Module } from '@nestjs/common';
import { ApprovalsModule } from '../approvals/approvals.module.js';
import { RestoresController } from './restores.controller.js';
import { RestoresService } from './restores.service.js';

/** Restores (with dual control for sensitive sources). */
@Module({ imports: [ApprovalsModule], controllers: [RestoresController], providers: [RestoresService] })
export class RestoresModule {}
