/** parseWebhookDelivery: the JSON shape of a webhook delivery from the relay, checked. */
import { WeftError } from '@weft/protocol'
import type { FeedEvent } from './api-types.js'
import { feedEventProblem } from './feed-event-check.js'

/** One webhook delivery: a batch of feed events for one endpoint. */
export interface WebhookDelivery {
  /** The endpoint's id in the relay's configuration. */
  readonly endpoint: string
  /**
   * The delivery's id, the same on every attempt of this batch (also in the `weft-delivery`
   * header). Deduplicate by the events' `id`s: they are stable across batches and restarts.
   */
  readonly delivery: string
  /** 1 for the first attempt, then 2, 3… for retries. */
  readonly attempt: number
  /** The events, oldest first, as the feed returns them. */
  readonly events: readonly FeedEvent[]
}

const decoder = new TextDecoder()

/**
 * Parses a delivery's body (the raw bytes or text) and checks its shape; throws
 * `INVALID_ARGUMENT` naming the first problem. It does not check the signature: call
 * {@link verifyWebhookRequest} (which calls this) on requests from the network.
 */
export const parseWebhookDelivery = (body: Uint8Array | string): WebhookDelivery => {
  const invalid = (problem: string): WeftError =>
    new WeftError('INVALID_ARGUMENT', `the webhook delivery ${problem}`)
  let json: unknown
  try {
    json = JSON.parse(typeof body === 'string' ? body : decoder.decode(body))
  } catch (error) {
    throw new WeftError('INVALID_ARGUMENT', 'the webhook delivery is not JSON', { cause: error })
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw invalid('is not an object')
  const { endpoint, delivery, attempt, events } = json as Record<string, unknown>
  if (typeof endpoint !== 'string' || endpoint === '') throw invalid('has no endpoint')
  if (typeof delivery !== 'string' || delivery === '') throw invalid('has no delivery id')
  if (typeof attempt !== 'number' || !Number.isSafeInteger(attempt) || attempt < 1) {
    throw invalid('attempt is not a positive integer')
  }
  if (!Array.isArray(events)) throw invalid('has no events array')
  events.forEach((event: unknown, index) => {
    const problem = feedEventProblem(event)
    if (problem !== undefined) throw invalid(`events[${index}]${problem}`)
  })
  return { endpoint, delivery, attempt, events: events as FeedEvent[] }
}
