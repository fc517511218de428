import { randomBytes } from 'node:crypto';

/** W3C Trace Context `traceparent`: version-traceid-parentid-flags. */
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export interface TraceContext {
  readonly traceId: string;
  readonly spanId: string;
  readonly traceparent: string;
}

/** Continues the trace of `parent` with a new span, or starts a new trace when there is none (or it is malformed). */
export function childTrace(parent?: string | null): TraceContext {
  const match = parent ? TRACEPARENT.exec(parent) : null;
  const traceId = match?.[1] && !/^0+$/.test(match[1]) ? match[1] : randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  const flags = match?.[3] ?? '01';
  return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-${flags}` };
}

export function traceIdOf(traceparent?: string | null): string | undefined {
  return traceparent ? TRACEPARENT.exec(traceparent)?.[1] : undefined;
}
