import { randomUUID } from 'node:crypto';
import { jetstream } from '@nats-io/jetstream';
import type { JetStreamClient, JsMsg } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/transport-node';
import type { Msg, MsgHdrs, NatsConnection, Subscription } from '@nats-io/transport-node';
import type { z } from 'zod';
import type { CloudEvent, CommandDefinition, ConsumerDefinition, EventDefinition, JobDefinition, Topology } from '@tresor/contracts';
import { HEADERS, MAX_MESSAGE_BYTES, cloudEventSchema, errorBodySchema, eventDataSchemaUri, eventType } from '@tresor/contracts';
import { IoError, TooLargeError, TresorError, UnavailableError, redactText } from '@tresor/errors';
import { decodeMessage, encodeJson, safeJson } from './decode.js';
import { MalformedMessageError, fromErrorBody, toErrorBody } from './errors.js';
import type { Logger } from './logger.js';
import { SpanKind, startSpan, traceIdOf } from './trace.js';
import type { ActiveSpan } from './trace.js';
import { context } from '@opentelemetry/api';

export interface BusOptions {
  readonly nc: NatsConnection;
  readonly topology: Topology;
  readonly service: string;
  readonly instance: string;
  readonly logger: Logger;
}

export interface RequestOptions {
  readonly timeoutMs?: number;
  readonly traceparent?: string;
  readonly headers?: Record<string, string>;
  /** Send to one replica (its `instanceToken`) instead of the queue group. */
  readonly instance?: string;
}

/** What a command handler gets besides the request. */
export interface CommandContext {
  readonly traceparent: string;
  readonly headers: MsgHdrs | undefined;
  readonly logger: Logger;
}

/** A reply with raw bytes instead of JSON (archive chunks). */
export interface BinaryReply {
  readonly bytes: Uint8Array;
  readonly headers?: Record<string, string>;
}

export interface JobContext {
  readonly traceparent: string;
  readonly logger: Logger;
  readonly deliveryCount: number;
  /** Extends the ack wait: a worker that stops calling it (it died) gets its job redelivered. */
  working(): void;
}

export type JobOutcome = 'ack' | { retryAfterMs: number } | 'term';

/**
 * The one way services talk over NATS: every body is validated against libs/contracts on the way
 * in and out, trace context travels in headers, malformed messages get an error reply (commands)
 * or are dead-lettered with the reason (jobs), and the service keeps serving.
 */
export class Bus {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly topology: Topology;
  private readonly subs: Subscription[] = [];
  private readonly stops: (() => Promise<void>)[] = [];
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(private readonly options: BusOptions) {
    this.nc = options.nc;
    this.js = jetstream(options.nc);
    this.topology = options.topology;
  }

  get logger(): Logger {
    return this.options.logger;
  }

  get source(): string {
    return `/tresor/${this.options.service}/${this.options.instance}`;
  }

  /** Sends a command and returns its validated reply; an error reply becomes the TresorError it names. */
  async request<Req extends z.ZodType, Rep extends z.ZodType>(
    def: CommandDefinition<Req, Rep>,
    body: z.input<Req> | Uint8Array,
    options: RequestOptions = {},
  ): Promise<Rep extends z.ZodType<infer O> ? (O extends Uint8Array ? { bytes: Uint8Array; headers: MsgHdrs | undefined } : O) : never> {
    const subject = this.topology.subjects.command(def.name) + (options.instance ? `.${options.instance}` : '');
    const span = startSpan(`send ${def.name}`, { kind: SpanKind.CLIENT, parent: options.traceparent, attributes: natsAttributes('send', subject, { 'tresor.command': def.name }) });
    try {
      const reply = await this.send(def, body, subject, span, options);
      span.end();
      return reply;
    } catch (err) {
      span.end(err);
      throw err;
    }
  }

  private async send<Req extends z.ZodType, Rep extends z.ZodType>(
    def: CommandDefinition<Req, Rep>,
    body: z.input<Req> | Uint8Array,
    subject: string,
    span: ActiveSpan,
    options: RequestOptions,
  ): Promise<never> {
    const h = natsHeaders();
    h.set(HEADERS.traceparent, span.traceparent);
    for (const [k, v] of Object.entries(options.headers ?? {})) h.set(k, v);
    let data: Uint8Array;
    if (def.binaryRequest) {
      data = body as Uint8Array;
    } else {
      const checked = def.request.safeParse(body);
      if (!checked.success) throw new MalformedMessageError(`${def.name}: refusing to send an invalid request: ${checked.error.issues[0]?.message}`);
      data = encodeJson(checked.data);
    }
    refuseOversized(def.name, data);
    let reply: Msg;
    try {
      reply = await this.nc.request(subject, data, { timeout: options.timeoutMs ?? 30_000, headers: h });
    } catch (err) {
      throw new NoReplyError(`${def.name}: no reply from ${def.service} on ${subject}: ${(err as Error).message}`, { cause: err });
    }
    if (reply.headers?.get(HEADERS.status) === 'error') {
      const parsed = errorBodySchema.safeParse(safeJson(reply.data));
      throw parsed.success ? fromErrorBody(parsed.data) : new IoError(`${def.name}: malformed error reply from ${def.service}`);
    }
    if (def.binaryReply) return { bytes: reply.data, headers: reply.headers } as never;
    return decodeMessage(reply.data, def.reply, def.version, `reply to ${def.name}`) as never;
  }

  /** This replica's subject token: its instance name with everything but letters, digits, `_` and `-` replaced. */
  get instanceToken(): string {
    return this.options.instance.replace(/[^A-Za-z0-9_-]/g, '_');
  }

  /**
   * Serves a command in a queue group (one replica answers each request); with `perInstance`,
   * also on `<subject>.<instanceToken>`, for requests that must reach this very replica.
   */
  serve<Req extends z.ZodType, Rep extends z.ZodType>(
    def: CommandDefinition<Req, Rep>,
    handler: (request: z.infer<Req>, ctx: CommandContext) => Promise<z.input<Rep> | BinaryReply>,
    options: { perInstance?: boolean } = {},
  ): void {
    const subject = this.topology.subjects.command(def.name);
    const subjects: [string, string | undefined][] = [[subject, this.options.service]];
    if (options.perInstance) subjects.push([`${subject}.${this.instanceToken}`, undefined]);
    for (const [s, queue] of subjects) {
      const sub = this.nc.subscribe(s, {
        ...(queue ? { queue } : {}),
        callback: (err, msg) => {
          if (err) return void this.logger.error({ err, subject: s }, 'subscription error');
          this.track(this.handleCommand(def, handler, msg));
        },
      });
      this.subs.push(sub);
    }
  }

  private async handleCommand<Req extends z.ZodType, Rep extends z.ZodType>(
    def: CommandDefinition<Req, Rep>,
    handler: (request: z.infer<Req>, ctx: CommandContext) => Promise<z.input<Rep> | BinaryReply>,
    msg: Msg,
  ): Promise<void> {
    const trace = startSpan(`process ${def.name}`, { kind: SpanKind.SERVER, parent: msg.headers?.get(HEADERS.traceparent) ?? null, attributes: natsAttributes('process', msg.subject, { 'tresor.command': def.name }) });
    const logger = this.logger.child({ traceId: trace.traceId, command: def.name });
    try {
      await context.with(trace.context, () => this.runCommand(def, handler, msg, trace, logger));
      trace.end();
    } catch (err) {
      trace.end(err);
      throw err;
    }
  }

  private async runCommand<Req extends z.ZodType, Rep extends z.ZodType>(
    def: CommandDefinition<Req, Rep>,
    handler: (request: z.infer<Req>, ctx: CommandContext) => Promise<z.input<Rep> | BinaryReply>,
    msg: Msg,
    trace: ActiveSpan,
    logger: Logger,
  ): Promise<void> {
    try {
      let request: z.infer<Req>;
      if (def.binaryRequest) {
        if (msg.data.byteLength > MAX_MESSAGE_BYTES) throw new MalformedMessageError(`${def.name}: message of ${msg.data.byteLength} bytes exceeds the limit`);
        request = msg.data as z.infer<Req>;
      } else {
        request = decodeMessage(msg.data, def.request, def.version, def.name);
      }
      const result = await handler(request, { traceparent: trace.traceparent, headers: msg.headers, logger });
      const h = natsHeaders();
      h.set(HEADERS.status, 'ok');
      h.set(HEADERS.traceparent, trace.traceparent);
      if (def.binaryReply) {
        const bin = result as BinaryReply;
        for (const [k, v] of Object.entries(bin.headers ?? {})) h.set(k, v);
        this.respond(msg, bin.bytes, h, def.name);
      } else {
        this.respond(msg, encodeJson(def.reply.parse(result)), h, def.name);
      }
    } catch (err) {
      trace.fail(err);
      if (err instanceof MalformedMessageError) logger.warn({ reason: err.message }, 'rejected malformed request');
      else if (err instanceof TresorError) logger.info({ code: err.code, reason: err.message }, 'request failed');
      else logger.error({ err }, 'request failed unexpectedly');
      if (!msg.reply) {
        await this.deadLetter(msg.subject, msg.data, err instanceof Error ? err.message : String(err));
        return;
      }
      const h = natsHeaders();
      h.set(HEADERS.status, 'error');
      h.set(HEADERS.traceparent, trace.traceparent);
      this.respond(msg, encodeJson(toErrorBody(err)), h, def.name);
    }
  }

  private respond(msg: Msg, data: Uint8Array, h: MsgHdrs, what: string): void {
    if (!msg.reply) return;
    if (!msg.respond(data, { headers: h })) this.logger.warn({ command: what }, 'could not reply (connection closed)');
  }

  /** Publishes a CloudEvent on TRESOR_EVENTS (its id is the JetStream message id, so a retry is not stored twice). */
  async publishEvent<S extends z.ZodType>(
    def: EventDefinition<S>,
    data: z.input<S>,
    options: { subject?: string; traceparent?: string; id?: string } = {},
  ): Promise<CloudEvent<z.infer<S>>> {
    const event: CloudEvent<z.infer<S>> = {
      specversion: '1.0',
      id: options.id ?? randomUUID(),
      source: this.source,
      type: eventType(def.name, def.version),
      ...(options.subject ? { subject: options.subject } : {}),
      time: new Date().toISOString(),
      datacontenttype: 'application/json',
      dataschema: eventDataSchemaUri(def.name, def.version),
      ...(options.traceparent ? { traceparent: options.traceparent } : {}),
      data: def.data.parse(data),
    };
    cloudEventSchema.parse(event);
    const h = natsHeaders();
    const subject = this.topology.subjects.event(def.name);
    // An event without a trace (a timer's) starts none: only a traced one gets a producer span.
    const span = options.traceparent ? startSpan(`publish ${def.name}`, { kind: SpanKind.PRODUCER, parent: options.traceparent, attributes: natsAttributes('publish', subject, { 'tresor.event': def.name, ...(options.subject ? { 'tresor.job.id': options.subject } : {}) }) }) : undefined;
    if (span) h.set(HEADERS.traceparent, span.traceparent);
    if (options.subject) h.set(HEADERS.jobId, options.subject);
    // Events are kept for days and read by anyone allowed on tresor.events.>: a registered secret never goes out in one.
    const body = Buffer.from(redactText(JSON.stringify(event)));
    try {
      await this.js.publish(subject, body, { msgID: event.id, headers: h });
      span?.end();
    } catch (err) {
      span?.end(err);
      throw err;
    }
    return event;
  }

  /** Queues a job on its work-queue stream; the job id is the message id (a retried publish is not queued twice). */
  async publishJob<S extends z.ZodType>(def: JobDefinition<S>, job: z.input<S> & { jobId: string }, traceparent: string): Promise<void> {
    const body = def.schema.parse(job);
    const subject = this.topology.subjects.job(def.kind);
    const span = startSpan(`publish ${def.kind}`, { kind: SpanKind.PRODUCER, parent: traceparent, attributes: natsAttributes('publish', subject, { 'tresor.job.kind': def.kind, 'tresor.job.id': job.jobId }) });
    const h = natsHeaders();
    h.set(HEADERS.traceparent, span.traceparent);
    h.set(HEADERS.jobId, job.jobId);
    try {
      const data = encodeJson(body);
      refuseOversized(def.kind, data);
      await this.js.publish(subject, data, { msgID: job.jobId, headers: h });
      span.end();
    } catch (err) {
      span.end(err);
      throw err;
    }
  }

  /**
   * Pulls jobs from a durable consumer until `stop()`. Malformed jobs are dead-lettered and
   * terminated; a handler's outcome acks, retries later, or terminates the message.
   */
  consumeJobs(
    consumer: ConsumerDefinition,
    jobs: Record<string, { def: JobDefinition; handle: (job: never, ctx: JobContext) => Promise<JobOutcome> }>,
    options: { concurrency?: number } = {},
  ): void {
    let stopping = false;
    let iterator: { close(): Promise<void | Error> } | undefined;
    const run = async (): Promise<void> => {
      while (!stopping) {
        try {
          const c = await this.js.consumers.get(consumer.stream, consumer.durable);
          const messages = await c.consume({ max_messages: options.concurrency ?? 1 });
          iterator = messages;
          for await (const m of messages) {
            // One job at a time per consume loop: the next pull waits for this job.
            await this.track(this.handleJob(m, jobs));
            if (stopping) break;
          }
        } catch (err) {
          if (stopping) break;
          this.logger.warn({ err: (err as Error).message, consumer: consumer.durable }, 'job consumer stopped; restarting');
          await new Promise((r) => setTimeout(r, 1000));
        }
      }
    };
    const loop = run();
    this.stops.push(async () => {
      stopping = true;
      await iterator?.close();
      await loop;
    });
  }

  private async handleJob(
    m: JsMsg,
    jobs: Record<string, { def: JobDefinition; handle: (job: never, ctx: JobContext) => Promise<JobOutcome> }>,
  ): Promise<void> {
    const kind = m.subject.slice(m.subject.lastIndexOf('.') + 1);
    const entry = jobs[kind];
    const jobIdHeader = m.headers?.get(HEADERS.jobId) || undefined;
    const trace = startSpan(`process ${kind}`, { kind: SpanKind.CONSUMER, parent: m.headers?.get(HEADERS.traceparent) ?? null, attributes: natsAttributes('process', m.subject, { 'tresor.job.kind': kind, ...(jobIdHeader ? { 'tresor.job.id': jobIdHeader } : {}), 'tresor.job.delivery': m.info.deliveryCount }) });
    let failure: unknown;
    try {
      failure = await context.with(trace.context, () => this.runJob(m, kind, entry, trace, jobIdHeader));
    } finally {
      trace.end(failure);
    }
  }

  /** Decodes and runs one job; returns what failed it (undefined when it was acked or retried as planned). */
  private async runJob(
    m: JsMsg,
    kind: string,
    entry: { def: JobDefinition; handle: (job: never, ctx: JobContext) => Promise<JobOutcome> } | undefined,
    trace: ActiveSpan,
    jobIdHeader: string | undefined,
  ): Promise<unknown> {
    const logger = this.logger.child({ traceId: trace.traceId, jobId: jobIdHeader, job: kind });
    let job: unknown;
    try {
      if (!entry) throw new MalformedMessageError(`no handler for jobs on ${m.subject}`);
      job = decodeMessage(m.data, entry.def.schema, entry.def.version, `${kind} job`);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      logger.warn({ reason }, 'dead-lettered malformed job');
      await this.deadLetter(m.subject, m.data, reason).catch((e: unknown) => logger.error({ err: e }, 'dead-letter failed'));
      m.term(reason.slice(0, 200));
      return err;
    }
    const heartbeat = setInterval(() => m.working(), 2_000);
    try {
      const outcome = await entry!.handle(job as never, {
        traceparent: trace.traceparent,
        logger,
        deliveryCount: m.info.deliveryCount,
        working: () => m.working(),
      });
      trace.span.setAttribute('tresor.job.outcome', typeof outcome === 'string' ? outcome : 'retry');
      if (outcome === 'ack') await m.ackAck().catch(() => m.ack());
      else if (outcome === 'term') m.term();
      else m.nak(outcome.retryAfterMs);
      return undefined;
    } catch (err) {
      logger.error({ err }, 'job handler failed; will be redelivered');
      m.nak(5_000);
      return err;
    } finally {
      clearInterval(heartbeat);
    }
  }

  /** Stores a message nobody can accept on `<root>.dlq.<service>` with the reason and original subject in headers. */
  async deadLetter(subject: string, data: Uint8Array, reason: string): Promise<void> {
    const h = natsHeaders();
    h.set(HEADERS.deadLetterReason, reason.slice(0, 500));
    h.set(HEADERS.originalSubject, subject);
    const body = data.byteLength > MAX_MESSAGE_BYTES ? data.subarray(0, 1024) : data;
    await this.js.publish(this.topology.subjects.deadLetter(this.options.service), body, { headers: h });
  }

  /** Stops taking work, lets in-flight handlers finish, then drains the connection. */
  async close(): Promise<void> {
    for (const sub of this.subs) sub.unsubscribe();
    await Promise.all(this.stops.map((s) => s()));
    await Promise.allSettled([...this.inFlight]);
    if (!this.nc.isClosed()) await this.nc.drain().catch(() => undefined);
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p)).catch(() => undefined);
    return p;
  }

  traceIdOf = traceIdOf;
}

/** Messaging attributes of a NATS span (OpenTelemetry semantic conventions): subjects and names only, never bodies. */
function natsAttributes(operation: 'send' | 'publish' | 'process', subject: string, extra: Record<string, string | number>): Record<string, string | number> {
  return { 'messaging.system': 'nats', 'messaging.operation.type': operation, 'messaging.destination.name': subject, ...extra };
}

/** A message NATS would refuse is the caller's request being too large (413 at the gateway), not a bus failure. */
function refuseOversized(what: string, data: Uint8Array): void {
  if (data.byteLength > MAX_MESSAGE_BYTES) {
    throw new TooLargeError(`${what}: the request makes a message of ${data.byteLength} bytes, over the limit of ${MAX_MESSAGE_BYTES}; shorten its fields`);
  }
}

/** A request that got no reply (no responder, a timeout, the connection lost): whether it took effect is unknown. */
export class NoReplyError extends UnavailableError {}
