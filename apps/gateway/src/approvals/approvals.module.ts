import { Module } from '@nestjs/common';
import { ApprovalsController } from './approvals.controller.js';
import { ApprovalsService, approvalStoreProvider, dualControlProvider } from './approvals.service.js';

/** Dual control for restores of sensitive sources (TRESOR_DUAL_CONTROL); RestoresModule creates the requests. */
@Module({ controllers: [ApprovalsController], providers: [ApprovalsService, approvalStoreProvider, dualControlProvider], exports: [ApprovalsService] })
export class ApprovalsModule {}
