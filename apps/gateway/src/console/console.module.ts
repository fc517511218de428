import type { DynamicModule, OnModuleInit } from '@nestjs/common';
import { Inject, Injectable, Module } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import type { Logger } from '@tresor/messaging';
import { registerConsole } from './console.server.js';
import type { ConsoleServerOptions } from './console.server.js';

const OPTIONS = Symbol('CONSOLE_OPTIONS');

/** Puts the console's routes on the Fastify instance while Nest initialises (before it listens). */
@Injectable()
class ConsoleRoutes implements OnModuleInit {
  constructor(
    @Inject(HttpAdapterHost) private readonly host: HttpAdapterHost,
    @Inject(OPTIONS) private readonly options: ConsoleServerOptions & { logger?: Logger },
  ) {}

  async onModuleInit(): Promise<void> {
    const app = this.host.httpAdapter.getInstance<FastifyInstance>();
    const built = await registerConsole(app, this.options);
    if (!built) this.options.logger?.warn({ dir: this.options.dir }, 'no console build found (index.html): `/` answers 404 until `npx nx build console` or TRESOR_CONSOLE_DIR points at one');
  }
}

/** The ops console served at `/` (docs/console.md). */
@Module({})
export class ConsoleModule {
  /** The module serving the console build in `options.dir`. */
  static forRoot(options: ConsoleServerOptions & { logger?: Logger }): DynamicModule {
    return { module: ConsoleModule, providers: [{ provide: OPTIONS, useValue: options }, ConsoleRoutes] };
  }
}
