import { Module } from '@nestjs/common';
import { ClusterHealthController } from './cluster-health.controller.js';

/** Cluster health. */
@Module({ controllers: [ClusterHealthController] })
export class ClusterHealthModule {}
