/**
 * startOtlpTracing: the relay's OpenTelemetry SDK, installed only when an OTLP endpoint is
 * configured, so the spans of `@weft/server` go over OTLP/HTTP (protobuf) to a collector.
 */
import { propagation, trace } from '@opentelemetry/api'
import {
  CompositePropagator,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from '@opentelemetry/core'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto'
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources'
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base'

/** The installed SDK: flush and stop it before the process exits. */
export interface OtlpTracing {
  /** Where spans go. */
  readonly url: string
  /** Exports the spans not yet sent, then stops exporting. */
  shutdown(): Promise<void>
}

const env = (variables: NodeJS.ProcessEnv, name: string): string | undefined =>
  variables[name]?.trim() || undefined

/**
 * The URL spans are posted to: `--otlp-endpoint` (a base URL, as `OTEL_EXPORTER_OTLP_ENDPOINT`,
 * to which `/v1/traces` is added), else `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (used as it is),
 * else `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`; null when none is set, when
 * `OTEL_SDK_DISABLED=true` or when `OTEL_TRACES_EXPORTER=none`.
 */
export const otlpTracesUrl = (
  endpoint: string | undefined,
  variables: NodeJS.ProcessEnv,
): string | null => {
  if (env(variables, 'OTEL_SDK_DISABLED')?.toLowerCase() === 'true') return null
  if (env(variables, 'OTEL_TRACES_EXPORTER')?.toLowerCase() === 'none') return null
  const withPath = (base: string): string => `${base.replace(/\/+$/, '')}/v1/traces`
  if (endpoint !== undefined) return withPath(endpoint)
  const traces = env(variables, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT')
  if (traces !== undefined) return traces
  const base = env(variables, 'OTEL_EXPORTER_OTLP_ENDPOINT')
  return base === undefined ? null : withPath(base)
}

/**
 * Installs a global tracer provider exporting to {@link otlpTracesUrl} in batches (the
 * `OTEL_BSP_*` variables tune them; `OTEL_EXPORTER_OTLP_HEADERS` and `…_TIMEOUT` apply), with
 * the W3C trace-context and baggage propagators, sampling per `OTEL_TRACES_SAMPLER` (default:
 * follow the parent, else record), and the resource `service.name` = `OTEL_SERVICE_NAME` or
 * `weft-relay` plus `OTEL_RESOURCE_ATTRIBUTES`. Returns null (and installs nothing) when no
 * endpoint is configured: the server's spans then stay no-ops.
 */
export const startOtlpTracing = (
  endpoint: string | undefined,
  variables: NodeJS.ProcessEnv,
): OtlpTracing | null => {
  const url = otlpTracesUrl(endpoint, variables)
  if (url === null) return null
  const resource = resourceFromAttributes({ 'service.name': 'weft-relay' }).merge(
    detectResources({ detectors: [envDetector] }),
  )
  const provider = new BasicTracerProvider({
    resource,
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url }))],
  })
  trace.setGlobalTracerProvider(provider)
  propagation.setGlobalPropagator(
    new CompositePropagator({
      propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
    }),
  )
  return { url, shutdown: () => provider.shutdown() }
}
