import { Module } from '@nestjs/common';
import { FsckController } from './fsck.controller.js';

/** The cluster's fsck (catalog against storage, orphan repair). */
@Module({ controllers: [FsckController] })
export class FsckModule {}
