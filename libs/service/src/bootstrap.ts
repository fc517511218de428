import 'reflect-metadata';
import type { DynamicModule, INestApplication, Provider, Type } from '@nestjs/common';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { redactText } from '@tresor/errors';
import { connectNats, Bus, createLogger, ensureTopology } from '@tresor/messaging';
import type { Logger } from '@tresor/messaging';
import { COMMANDS, heartbeatSchema, topology } from '@tresor/contracts';
import type { ConsumerDefinition, StreamDefinition, Topology } from '@tresor/contracts';
import type { BaseConfig } from './config.js';
import { instanceName, natsConnectionOptions } from './config.js';
import { HealthController, READINESS } from './health.js';
import type { Readiness } from './health.js';
import { ServiceMetrics } from './metrics.js';
import { traceHttp } from './http-tracing.js';
import { drainOversizedBodies } from './oversized-bodies.js';
import { startTracing } from './tracing.js';

export interface ServiceContext {
  readonly name: string;
  readonly instance: string;
  readonly logger: Logger;
  readonly bus: Bus;
  readonly topology: Topology;
  /** This process's Prometheus registry, served at /metrics (docs/monitoring.md). */
  readonly metrics: ServiceMetrics;
}

export interface ServiceDefinition<C extends BaseConfig> {
  readonly name: string;
  readonly config: C;
  /** Consumers this service pulls from (created at start with every stream). */
  readonly consumers?: (t: Topology) => ConsumerDefinition[];
  /** Wires the service; returns its Nest module parts, readiness checks and how to stop. */
  setup(ctx: ServiceContext): Promise<{
    /** Feature modules (a service with several features groups its routes one module each). */
    imports?: Array<Type | DynamicModule>;
    controllers?: Type[];
    providers?: Provider[];
    checks?: () => Record<string, boolean>;
    /** Shown under `detail` in /health/ready without deciding readiness (a follower is ready too). */
    detail?: () => Record<string, unknown>;
    configureApp?: (app: NestFastifyApplication) => Promise<void> | void;
    /** Stop taking work and finish or release what is in flight. */
    stop?: () => Promise<void>;
  }>;
}

/**
 * Starts a cluster service: NATS with JetStream topology, the service's own wiring, an HTTP server
 * (NestJS on Fastify) with /health/live and /health/ready, heartbeats for monitoring, and a
 * graceful shutdown on SIGTERM/SIGINT that stops intake, finishes in-flight work and drains NATS.
 */
export async function runService<C extends BaseConfig>(def: ServiceDefinition<C>): Promise<void> {
  const instance = instanceName(def.name, def.config);
  const logger = createLogger(def.name, instance);
  // Before anything opens a span: off (no-op) unless an OTLP endpoint is configured.
  const tracing = startTracing(def.name, instance);
  const t = topology({
    subjectRoot: def.config.TRESOR_SUBJECT_ROOT,
    namePrefix: def.config.TRESOR_NAME_PREFIX,
    replicas: def.config.TRESOR_NATS_REPLICAS,
    jobAckWaitMs: def.config.TRESOR_JOB_ACK_WAIT_MS,
    jobMaxDeliver: def.config.TRESOR_JOB_MAX_DELIVER,
  });
  const nc = await connectNats({ servers: def.config.TRESOR_NATS_URL, name: instance, logger, ...natsConnectionOptions(def.config) });
  const streams: StreamDefinition[] = Object.values(t.streams);
  await ensureTopology(nc, streams, def.consumers?.(t) ?? []);
  const bus = new Bus({ nc, topology: t, service: def.name, instance, logger });
  const metrics = new ServiceMetrics(def.name, instance);
  const stopMetrics = metrics.followJobs(bus, def.consumers?.(t) ?? []);
  const wired = await def.setup({ name: def.name, instance, logger, bus, topology: t, metrics });

  const readiness: Readiness = () => {
    const checks = { nats: !nc.isClosed() && nc.info !== undefined, ...(wired.checks?.() ?? {}) };
    const detail = wired.detail?.();
    return { ready: Object.values(checks).every(Boolean), checks, ...(detail ? { detail } : {}) };
  };

  @Module({})
  class ServiceModule {}
  const module: DynamicModule = {
    module: ServiceModule,
    imports: wired.imports ?? [],
    controllers: [HealthController, ...(wired.controllers ?? [])],
    providers: [{ provide: READINESS, useValue: readiness }, ...(wired.providers ?? [])],
  };
  const app = await NestFactory.create<NestFastifyApplication>(module, new FastifyAdapter({ bodyLimit: 1024 * 1024 }), {
    logger: ['error', 'warn'],
    abortOnError: false,
  });
  traceHttp(app.getHttpAdapter().getInstance());
  drainOversizedBodies(app.getHttpAdapter().getInstance());
  await wired.configureApp?.(app);
  // On Fastify itself, not a Nest controller: a scrape passes no guard (the gateway denies by default),
  // like the process probes it is for the network the services run on.
  app.getHttpAdapter().getInstance().get('/metrics', async (_req, reply) => {
    const { contentType, body } = await metrics.render();
    return reply.header('content-type', contentType).send(body);
  });
  await app.listen(def.config.TRESOR_HTTP_PORT, def.config.TRESOR_HTTP_HOST);
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : def.config.TRESOR_HTTP_PORT;

  const beat = (): void => {
    const body = heartbeatSchema.parse({ v: 1, service: def.name, instance, ready: readiness().ready, time: new Date().toISOString() });
    try {
      nc.publish(t.subjects.heartbeat(def.name), JSON.stringify(body));
    } catch {
      // Disconnected: the next beat after the reconnect reports again.
    }
  };
  beat();
  const heartbeat = setInterval(beat, 2_000);
  void COMMANDS;

  // The line tests and `npm run cluster` wait for.
  logger.info({ http: `http://${def.config.TRESOR_HTTP_HOST}:${port}`, event: 'ready' }, `${def.name} ready`);

  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, `${def.name} stopping`);
    clearInterval(heartbeat);
    stopMetrics();
    await closeQuietly(app);
    // Stop intake and let in-flight work finish (an unfinished job is redelivered elsewhere), then release.
    await bus.close();
    await wired.stop?.().catch((err: unknown) => logger.error({ err }, 'stop failed'));
    await tracing.shutdown();
    logger.info(`${def.name} stopped`);
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

async function closeQuietly(app: INestApplication): Promise<void> {
  await app.close().catch(() => undefined);
}

/** Runs `main`, printing a one-line error and exiting 1 if start-up fails. */
export function start(main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    process.stderr.write(`${redactText(JSON.stringify({ level: 'fatal', msg: err instanceof Error ? err.message : String(err) }))}\n`);
    process.exit(1);
  });
}
