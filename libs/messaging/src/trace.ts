import { randomBytes } from 'node:crypto';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, context, defaultTextMapGetter, defaultTextMapSetter, isSpanContextValid, trace } from '@opentelemetry/api';
import type { Attributes, Context, Span, SpanContext } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { REDACTED, TresorError, redactText, redactValue } from '@tresor/errors';

export { SpanKind };

/**
 * The one place a W3C `traceparent` is read or written (ADR 24): the OpenTelemetry propagator,
 * whether or not an SDK is running, so headers, job records, events and logs agree.
 */
const w3c = new W3CTraceContextPropagator();

/** Instrumentation scope of every span Tresor creates by hand. */
export const TRACER_NAME = 'tresor';

export interface TraceContext {
  readonly traceId: string;
  readonly spanId: string;
  readonly traceparent: string;
}

/** A started span with the context that makes it the parent of what runs inside it. */
export interface ActiveSpan extends TraceContext {
  readonly span: Span;
  readonly context: Context;
  /** Marks the span failed: the error's code or class and its redacted message, nothing else. */
  fail(err: unknown): void;
  /** Ends the span, marking it failed when `err` is given. */
  end(err?: unknown): void;
}

export interface SpanOptions {
  readonly kind?: SpanKind;
  /**
   * The caller's `traceparent` (a header, a job record): that trace is continued, under the active
   * span when it belongs to the same trace (the finer parent). Absent or malformed: the active span
   * is the parent, and without one a new trace starts.
   */
  readonly parent?: string | null;
  readonly attributes?: Attributes;
}

/** The context a `traceparent` names on top of `base`, or `base` itself when it names none (absent or malformed). */
export function contextFromTraceparent(traceparent: string | null | undefined, base: Context = ROOT_CONTEXT): Context {
  return traceparent ? w3c.extract(base, { traceparent }, defaultTextMapGetter) : base;
}

/** The `traceparent` header value for the span current in `ctx`, or undefined when it has none. */
export function traceparentOf(ctx: Context): string | undefined {
  const carrier: Record<string, string> = {};
  w3c.inject(ctx, carrier, defaultTextMapSetter);
  return carrier.traceparent;
}

/** The trace id of a well-formed `traceparent`. */
export function traceIdOf(traceparent?: string | null): string | undefined {
  const sc = trace.getSpanContext(contextFromTraceparent(traceparent));
  return sc && isSpanContextValid(sc) ? sc.traceId : undefined;
}

/**
 * Span attributes safe to export: secret-named keys are dropped and registered secret values
 * replaced (libs/errors/src/redact.ts), like everything else Tresor writes out.
 */
export function safeAttributes(attributes: Attributes | undefined): Attributes {
  const out: Attributes = {};
  for (const [k, v] of Object.entries(redactValue(attributes ?? {}))) if (v !== REDACTED) out[k] = v;
  return out;
}

/**
 * Starts a span. With an OpenTelemetry SDK registered it is recorded and exported; without one
 * (the default) it still gets fresh ids — as cheap as before the SDK existed — so the trace id
 * keeps travelling through NATS headers, job records, events and logs.
 */
export function startSpan(name: string, options: SpanOptions = {}): ActiveSpan {
  const parent = parentContext(options.parent);
  const parentSc = trace.getSpanContext(parent);
  let span = trace.getTracer(TRACER_NAME).startSpan(name, { kind: options.kind ?? SpanKind.INTERNAL }, parent);
  // Attributes are redacted only for a span that records them: tracing off pays nothing for them.
  if (options.attributes && span.isRecording()) span.setAttributes(safeAttributes(options.attributes));
  let sc = span.spanContext();
  // The API's no-op tracer hands back the parent's context (or an invalid one): give the span its own ids.
  if (!isSpanContextValid(sc) || (parentSc && sc.spanId === parentSc.spanId)) {
    sc = freshContext(parentSc);
    span = trace.wrapSpanContext(sc);
  }
  const ctx = trace.setSpan(parent, span);
  const recorded = span;
  return {
    span,
    context: ctx,
    traceId: sc.traceId,
    spanId: sc.spanId,
    traceparent: traceparentOf(ctx)!,
    fail(err: unknown) {
      recorded.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? redactText(err.message) : 'failed' });
      recorded.setAttribute('error.type', err instanceof TresorError ? err.code : err instanceof Error ? err.name : 'unknown');
    },
    end(err?: unknown) {
      if (err !== undefined) this.fail(err);
      recorded.end();
    },
  };
}

/** Runs `work` inside a new span (the parent of every span `work` starts) and ends it with the outcome. */
export async function withSpan<T>(name: string, options: SpanOptions, work: (span: ActiveSpan) => Promise<T>): Promise<T> {
  const s = startSpan(name, options);
  try {
    const result = await context.with(s.context, () => work(s));
    s.end();
    return result;
  } catch (err) {
    s.end(err);
    throw err;
  }
}

function parentContext(traceparent: string | null | undefined): Context {
  const active = context.active();
  const namedSc = trace.getSpanContext(contextFromTraceparent(traceparent));
  if (!namedSc || !isSpanContextValid(namedSc)) return active;
  const activeSc = trace.getSpanContext(active);
  if (activeSc && isSpanContextValid(activeSc) && activeSc.traceId === namedSc.traceId) return active;
  return trace.setSpanContext(active, namedSc);
}

function freshContext(parent: SpanContext | undefined): SpanContext {
  const valid = parent && isSpanContextValid(parent);
  return {
    traceId: valid ? parent.traceId : randomBytes(16).toString('hex'),
    spanId: randomBytes(8).toString('hex'),
    traceFlags: valid ? parent.traceFlags : TraceFlags.SAMPLED,
    isRemote: false,
  };
}
