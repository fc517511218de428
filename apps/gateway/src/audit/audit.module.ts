import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { AuditController } from './audit.controller.js';
import { AuditInterceptor } from './audit.interceptor.js';

/**
 * The audit log at the gateway: GET /v1/audit/verify and /v1/audit/entries, and the interceptor
 * that records every state-changing request before it is accepted. Needs the global BUS provider
 * (CoreModule).
 */
@Module({ controllers: [AuditController], providers: [{ provide: APP_INTERCEPTOR, useClass: AuditInterceptor }] })
export class AuditModule {}
