import { Module } from '@nestjs/common';
import { StorageController } from './storage.controller.js';

/** Storage locations. */
@Module({ controllers: [StorageController] })
export class StorageModule {}
