import { Module } from '@nestjs/common';
import { EventsController } from './events.controller.js';
import { EventsService } from './events.service.js';

/** Live job events (Server-Sent Events). */
@Module({ controllers: [EventsController], providers: [EventsService] })
export class EventsModule {}
