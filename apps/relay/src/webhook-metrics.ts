/**
 * The Prometheus gauges of the webhook endpoints this relay runs: how far each is behind the
 * change feed, and its dead letters (how many, and how long the oldest has waited).
 */
import type { DeadLetter, WebhookEndpointStatus } from '@weft/server/webhooks'
import { Gauge, type Registry } from 'prom-client'

/** The change feed's newest position (`relay.feed`). */
export interface FeedBounds {
  bounds(): Promise<{ readonly head: number }>
}

/** What the gauges read of the dispatcher (a `WebhookDispatcher`). */
export interface WebhookBacklogSource {
  status(): WebhookEndpointStatus[]
  deadLetters(id: string): Promise<DeadLetter[]>
}

/** One endpoint's numbers at scrape time. */
export interface EndpointBacklog {
  readonly endpoint: string
  /** Feed positions past the endpoint's cursor: not yet delivered nor dead-lettered. */
  readonly backlogEvents: number
  readonly deadLetters: number
  /** Seconds since the oldest dead letter failed; 0 with none. */
  readonly oldestDeadLetterSeconds: number
}

/**
 * Reads each endpoint's backlog and dead letters. Only endpoints whose loop runs on this relay
 * count (relays sharing a store run each on one of them: the others' cursors are stale); the
 * dead letters are read from the store, so each scrape costs one read per endpoint.
 */
export const readWebhookBacklog = async (
  feed: FeedBounds,
  webhooks: WebhookBacklogSource,
  nowMs: number,
): Promise<EndpointBacklog[]> => {
  const active = webhooks.status().filter((status) => status.active)
  if (active.length === 0) return []
  const { head } = await feed.bounds()
  return Promise.all(
    active.map(async ({ id, cursor }) => {
      const letters = await webhooks.deadLetters(id)
      const oldest = letters[0]
      return {
        endpoint: id,
        backlogEvents: Math.max(0, head - cursor),
        deadLetters: letters.length,
        oldestDeadLetterSeconds:
          oldest === undefined ? 0 : Math.max(0, (nowMs - oldest.failedAtMs) / 1000),
      }
    }),
  )
}

/**
 * Registers `weft_webhook_backlog_events`, `weft_webhook_dead_letters` and
 * `weft_webhook_oldest_dead_letter_age_seconds`, labelled by endpoint id (from the webhooks
 * file: bounded), read from `webhooks` when `/metrics` is scraped.
 */
export const registerWebhookGauges = (
  registry: Registry,
  feed: FeedBounds,
  webhooks: WebhookBacklogSource,
  now: () => number = Date.now,
): void => {
  // One read per scrape, shared by the three gauges (the registry collects them concurrently).
  let reading: Promise<EndpointBacklog[]> | null = null
  const read = (): Promise<EndpointBacklog[]> =>
    (reading ??= readWebhookBacklog(feed, webhooks, now()).finally(() => {
      reading = null
    }))
  const gauge = (name: string, help: string, value: (each: EndpointBacklog) => number): void => {
    new Gauge({
      name,
      help,
      labelNames: ['endpoint'],
      registers: [registry],
      async collect() {
        const endpoints = await read()
        this.reset()
        for (const each of endpoints) this.set({ endpoint: each.endpoint }, value(each))
      },
    })
  }
  gauge(
    'weft_webhook_backlog_events',
    "Change-feed positions past a webhook endpoint's cursor (not yet delivered or dead-lettered)",
    (each) => each.backlogEvents,
  )
  gauge(
    'weft_webhook_dead_letters',
    'Dead letters a webhook endpoint holds (deliveries whose attempts all failed)',
    (each) => each.deadLetters,
  )
  gauge(
    'weft_webhook_oldest_dead_letter_age_seconds',
    "Seconds since a webhook endpoint's oldest dead letter failed (0 with none)",
    (each) => each.oldestDeadLetterSeconds,
  )
}
