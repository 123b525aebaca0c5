/** What the traced-tabs page offers the test (as `window.tracedTab`). */
export interface TracedTabApi {
  /** The document's sync state. */
  state(): string
  /** The document's text `t`. */
  text(): string
  /** Inserts `text` in one local transaction; resolves once the relay saved it. */
  edit(text: string): Promise<void>
  /** The spans this tab's tracer ended. */
  spans(): Array<{
    name: string
    traceId: string
    spanId: string
    events: string[]
    /** OpenTelemetry's status code: 0 unset, 1 ok, 2 error. */
    status: number
  }>
}
