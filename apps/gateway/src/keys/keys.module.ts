import { Module } from '@nestjs/common';
import { KeysController } from './keys.controller.js';

/** Key status (KEK versions, providers, cryptoperiods) without key material. */
@Module({ controllers: [KeysController] })
export class KeysModule {}
