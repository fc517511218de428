import type { DynamicModule } from '@nestjs/common';
import { Global, Module } from '@nestjs/common';
import type { Catalog, MongoJobStore, MongoScheduleStore } from '@tresor/catalog';
import type { Db } from 'mongodb';
import type { Bus } from '@tresor/messaging';
import { BUS, CATALOG, JOB_STORE, MONGO_DB, SCHEDULE_STORE } from './tokens.js';

export interface CoreAdapters {
  bus: Bus;
  jobs: MongoJobStore;
  catalog: Catalog;
  schedules: MongoScheduleStore;
  /** The gateway's own collections (source tenants, API tokens). */
  db: Db;
}

/** Binds the gateway's ports (NATS bus, catalog, job and schedule stores) once for every feature module. */
@Global()
@Module({})
export class CoreModule {
  /** The module with the adapters main.ts connected. */
  static forRoot(adapters: CoreAdapters): DynamicModule {
    const providers = [
      { provide: BUS, useValue: adapters.bus },
      { provide: JOB_STORE, useValue: adapters.jobs },
      { provide: CATALOG, useValue: adapters.catalog },
      { provide: SCHEDULE_STORE, useValue: adapters.schedules },
      { provide: MONGO_DB, useValue: adapters.db },
    ];
    return { module: CoreModule, providers, exports: providers.map((p) => p.provide) };
  }
}
