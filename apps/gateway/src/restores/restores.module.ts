import { Module } from '@nestjs/common';
import { RestoresController } from './restores.controller.js';
import { RestoresService } from './restores.service.js';

/** Restores. */
@Module({ controllers: [RestoresController], providers: [RestoresService] })
export class RestoresModule {}
