import type { DeadLetter, WebhookEndpointStatus } from '@weft/server/webhooks'
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { readWebhookBacklog, registerWebhookGauges } from '../src/webhook-metrics.js'

const status = (id: string, cursor: number, active = true): WebhookEndpointStatus => ({
  id,
  url: `https://example.com/${id}`,
  cursor,
  delivered: 0,
  deadLettered: 0,
  active,
  failing: null,
})

const letter = (failedAtMs: number): DeadLetter => ({
  delivery: `x:${failedAtMs}`,
  events: [],
  attempts: 1,
  lastError: 'HTTP 500',
  failedAtMs,
})

const feed = { bounds: async () => ({ head: 120 }) }
const webhooks = {
  status: () => [status('search', 100), status('audit', 120), status('elsewhere', 3, false)],
  deadLetters: async (id: string) => (id === 'search' ? [letter(1_000), letter(5_000)] : []),
}

describe('webhook backlog gauges', () => {
  it('read each active endpoint: positions behind the head, dead letters, the oldest one’s age', async () => {
    expect(await readWebhookBacklog(feed, webhooks, 61_000)).toEqual([
      { endpoint: 'search', backlogEvents: 20, deadLetters: 2, oldestDeadLetterSeconds: 60 },
      { endpoint: 'audit', backlogEvents: 0, deadLetters: 0, oldestDeadLetterSeconds: 0 },
    ])
  })

  it('are served per endpoint id, without endpoints another relay runs', async () => {
    const registry = new Registry()
    registerWebhookGauges(registry, feed, webhooks, () => 61_000)
    const text = await registry.metrics()
    expect(text).toContain('weft_webhook_backlog_events{endpoint="search"} 20')
    expect(text).toContain('weft_webhook_dead_letters{endpoint="search"} 2')
    expect(text).toContain('weft_webhook_oldest_dead_letter_age_seconds{endpoint="search"} 60')
    expect(text).toContain('weft_webhook_backlog_events{endpoint="audit"} 0')
    expect(text).not.toContain('elsewhere')
  })
})
