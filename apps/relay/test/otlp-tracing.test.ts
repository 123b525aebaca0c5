import { describe, expect, it } from 'vitest'
import { otlpTracesUrl } from '../src/otlp-tracing.js'

describe('otlpTracesUrl', () => {
  it('is off without an endpoint', () => {
    expect(otlpTracesUrl(undefined, {})).toBeNull()
    expect(otlpTracesUrl(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: ' ' })).toBeNull()
  })

  it('adds /v1/traces to --otlp-endpoint, which wins over the variables', () => {
    expect(otlpTracesUrl('http://collector:4318/', {})).toBe('http://collector:4318/v1/traces')
    expect(
      otlpTracesUrl('http://a:4318', { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b/x' }),
    ).toBe('http://a:4318/v1/traces')
  })

  it('takes the traces endpoint as it is, else the base endpoint plus /v1/traces', () => {
    const base = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://base:4318' }
    expect(otlpTracesUrl(undefined, base)).toBe('http://base:4318/v1/traces')
    expect(
      otlpTracesUrl(undefined, { ...base, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://t/spans' }),
    ).toBe('http://t/spans')
  })

  it('honours OTEL_SDK_DISABLED and OTEL_TRACES_EXPORTER=none', () => {
    expect(otlpTracesUrl('http://a:4318', { OTEL_SDK_DISABLED: 'true' })).toBeNull()
    expect(otlpTracesUrl('http://a:4318', { OTEL_TRACES_EXPORTER: 'none' })).toBeNull()
    expect(otlpTracesUrl('http://a:4318', { OTEL_TRACES_EXPORTER: 'otlp' })).not.toBeNull()
  })
})
