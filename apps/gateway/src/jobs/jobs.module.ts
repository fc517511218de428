import { Module } from '@nestjs/common';
import { JobsController } from './jobs.controller.js';

/** Jobs. */
@Module({ controllers: [JobsController] })
export class JobsModule {}
