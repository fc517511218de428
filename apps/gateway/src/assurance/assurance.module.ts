import { Module } from '@nestjs/common';
import { AlertsController } from './alerts.controller.js';
import { ComplianceController } from './compliance.controller.js';
import { DrillsController } from './drills.controller.js';

/** Assurance evidence of the cluster: the alert history, restore drills, the compliance report. */
@Module({ controllers: [AlertsController, DrillsController, ComplianceController] })
export class AssuranceModule {}
