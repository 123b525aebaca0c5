import { describe, expect, it } from 'vitest'
import {
  decodeDocHead,
  decodeMessage,
  decodeTraceContext,
  encodeMessage,
  encodeTraceContext,
  traceFrame,
  TRACE_CONTEXT_BYTES,
  untraceFrame,
  WeftError,
  type TraceContext,
  type TracedMessage,
} from '../src/index.js'

const CONTEXT: TraceContext = {
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  spanId: '00f067aa0ba902b7',
  flags: 1,
}
const update = (ref: number) => ({
  type: 'update' as const,
  doc: 'notes',
  ref,
  update: new Uint8Array([0, 0]),
})

const codeOf = (run: () => unknown): string | undefined => {
  try {
    run()
  } catch (error) {
    return error instanceof WeftError ? error.code : 'not a WeftError'
  }
  return undefined
}

describe('trace contexts on the wire', () => {
  it('round-trip as 25 bytes, and none as an empty item', () => {
    const bytes = encodeTraceContext(CONTEXT)
    expect(bytes.length).toBe(TRACE_CONTEXT_BYTES)
    expect(decodeTraceContext(bytes)).toEqual(CONTEXT)
    expect(encodeTraceContext(null).length).toBe(0)
    expect(decodeTraceContext(new Uint8Array(0))).toBeNull()
  })

  it('refuse malformed contexts with a code', () => {
    for (const bad of [
      { ...CONTEXT, traceId: CONTEXT.traceId.toUpperCase() },
      { ...CONTEXT, traceId: '0'.repeat(32) },
      { ...CONTEXT, spanId: 'abc' },
      { ...CONTEXT, flags: 256 },
    ]) {
      expect(codeOf(() => encodeTraceContext(bad))).toBe('INVALID_ARGUMENT')
    }
    expect(codeOf(() => decodeTraceContext(new Uint8Array(24)))).toBe('BAD_MESSAGE')
    expect(codeOf(() => decodeTraceContext(new Uint8Array(25)))).toBe('BAD_MESSAGE')
  })
})

describe('traced frames', () => {
  it('carry an update, a batch or a sync step 2 with their contexts, through the codec', () => {
    const batch = {
      type: 'updates' as const,
      doc: 'notes',
      ref: 9,
      updates: [new Uint8Array([0, 0]), new Uint8Array([0, 0])],
    }
    const sync = {
      type: 'sync-step-2' as const,
      doc: 'notes',
      ref: 4,
      update: new Uint8Array([0, 0]),
    }
    for (const [inner, contexts] of [
      [update(3), [CONTEXT]],
      [batch, [null, CONTEXT]],
      [sync, [CONTEXT, CONTEXT, null]],
    ] as const) {
      const wire = encodeMessage(traceFrame(inner, contexts))
      const decoded = decodeMessage(wire) as TracedMessage
      expect(decoded.type).toBe('traced')
      expect(untraceFrame(decoded)).toEqual({ message: inner, contexts })
      // The head of the inner frame is readable from the traced frame's first bytes.
      expect(decodeDocHead(wire.subarray(0, 12))).toEqual({
        type: inner.type,
        doc: 'notes',
        ref: inner.ref,
      })
    }
  })

  it('refuse counts that do not fit the frame, and frames that are not edits', () => {
    expect(codeOf(() => traceFrame(update(1), []))).toBe('INVALID_ARGUMENT')
    expect(codeOf(() => traceFrame(update(1), [CONTEXT, CONTEXT]))).toBe('INVALID_ARGUMENT')
    const sync = { type: 'sync-step-2' as const, doc: 'n', ref: 1, update: new Uint8Array([0, 0]) }
    expect(codeOf(() => traceFrame(sync, []))).toBe('INVALID_ARGUMENT')
    const item = encodeTraceContext(CONTEXT)
    const wrap = (frame: Uint8Array, contexts: Uint8Array[]): TracedMessage => ({
      type: 'traced',
      frame,
      contexts,
    })
    const cases: TracedMessage[] = [
      wrap(encodeMessage(update(1)), []),
      wrap(encodeMessage(update(1)), [item, item]),
      wrap(encodeMessage(update(1)), [new Uint8Array(3)]),
      wrap(encodeMessage({ type: 'ping', nonce: 1 }), [item]),
      wrap(encodeMessage(traceFrame(update(1), [CONTEXT])), [item]),
      wrap(encodeMessage({ type: 'compressed', size: 2, payload: new Uint8Array(2) }), [item]),
      wrap(new Uint8Array([6, 5]), [item]),
    ]
    for (const message of cases) expect(codeOf(() => untraceFrame(message))).toBe('BAD_MESSAGE')
  })
})
