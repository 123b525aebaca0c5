/** feedEventProblem: checks the JSON of one feed event (from the feed, the stream or a webhook). */
const KINDS = new Set(['update', 'deleted'])

const COUNTS = ['position', 'seq', 'receivedAtMs', 'bytes'] as const
const TEXTS = ['id', 'doc', 'author', 'correlationId'] as const

/**
 * What is wrong with `value` as a `FeedEvent` (naming the key), or `undefined` when it is
 * one. Domain events are checked to be objects with a string `type`; their details are the
 * relay's (see `ChangeEvent` in `@weft/doc`).
 */
export const feedEventProblem = (value: unknown): string | undefined => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'is not an object'
  const event = value as Record<string, unknown>
  for (const key of TEXTS) {
    if (typeof event[key] !== 'string') return `.${key} is not a string`
  }
  for (const key of COUNTS) {
    const count = event[key]
    if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) {
      return `.${key} is not a non-negative integer`
    }
  }
  if (event['id'] !== String(event['position'])) return '.id is not its position'
  if (typeof event['kind'] !== 'string' || !KINDS.has(event['kind'])) {
    return '.kind is not "update" or "deleted"'
  }
  const events = event['events']
  if (!Array.isArray(events)) return '.events is not an array'
  const bad = events.findIndex(
    (each: unknown) =>
      typeof each !== 'object' ||
      each === null ||
      typeof (each as { type?: unknown }).type !== 'string',
  )
  return bad === -1 ? undefined : `.events[${bad}] is not a domain event`
}
