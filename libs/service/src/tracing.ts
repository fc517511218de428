import { readFileSync } from 'node:fs';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { registerSecret } from '@tresor/errors';

/** The tracing SDK of one service process (docs/monitoring.md "Tracing"). */
export interface Tracing {
  readonly enabled: boolean;
  /** Exports what is still buffered and stops the SDK. */
  shutdown(): Promise<void>;
}

const OFF: Tracing = { enabled: false, shutdown: async () => undefined };

/** True when the environment asks for traces: an OTLP endpoint is set and the SDK is not disabled. */
export function tracingRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim());
}

/**
 * Starts the OpenTelemetry SDK when an OTLP endpoint is configured (the standard `OTEL_*`
 * variables: endpoint, headers, sampler, batch delays); otherwise registers nothing, so every span
 * stays the API's no-op and tracing costs nothing. Resource: service.name (`OTEL_SERVICE_NAME`,
 * else the service's name), service.instance.id, service.version, plus `OTEL_RESOURCE_ATTRIBUTES`.
 */
export function startTracing(service: string, instance: string, env: NodeJS.ProcessEnv = process.env): Tracing {
  if (!tracingRequested(env)) return OFF;
  // Collector credentials travel in OTLP headers (`Authorization=Bearer …`): never in a log line.
  for (const header of [env.OTEL_EXPORTER_OTLP_HEADERS, env.OTEL_EXPORTER_OTLP_TRACES_HEADERS]) {
    for (const pair of header?.split(',') ?? []) registerSecret(decodeURIComponentSafe(pair.slice(pair.indexOf('=') + 1).trim()));
  }
  const resource = resourceFromAttributes({
    [ATTR_SERVICE_NAME]: env.OTEL_SERVICE_NAME?.trim() || service,
    'service.namespace': 'tresor',
    'service.instance.id': instance,
    [ATTR_SERVICE_VERSION]: tresorVersion(),
  }).merge(detectResources({ detectors: [envDetector] }));
  const provider = new NodeTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())] });
  provider.register();
  return {
    enabled: true,
    shutdown: () => provider.shutdown().catch(() => undefined),
  };
}

/** The version in the repository's package.json (services run from this checkout). */
function tresorVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function decodeURIComponentSafe(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
