import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createClient, type WeftClient } from '@weft/client'
import { openModel } from '@weft/doc'
import { until, writeToken } from '@weft/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { board, observedClient, startObservedRelay, type ObservedRelay } from './metrics-relay.js'
import { untilScraped } from './metrics-scrape.js'

const ops = join(import.meta.dirname, '../../../ops')

interface Panel {
  readonly type: string
  readonly title: string
  readonly targets?: ReadonlyArray<{ readonly expr: string }>
}

const dashboard = JSON.parse(readFileSync(join(ops, 'grafana/weft-relay.json'), 'utf8')) as {
  readonly panels: readonly Panel[]
}

/** The `expr:` of every rule in the alert rules file (one line, or a `>-` block). */
const ruleExpressions = (): string[] => {
  const lines = readFileSync(join(ops, 'prometheus/weft-alerts.yml'), 'utf8').split('\n')
  const found: string[] = []
  lines.forEach((line, index) => {
    const match = /^(\s*)expr:\s*(.*)$/.exec(line)
    if (match === null) return
    const [, indent = '', rest = ''] = match
    if (rest !== '>-') return void found.push(rest)
    const block: string[] = []
    for (const next of lines.slice(index + 1)) {
      if (!next.startsWith(`${indent} `)) break
      block.push(next.trim())
    }
    found.push(block.join(' '))
  })
  return found
}

const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'group_left', 'group_right'])

/** The metric names a PromQL expression reads (not its functions, labels or keywords). */
const metricNames = (expr: string): string[] => {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring)\s*\([^)]*\)/g, ' ')
  const names: string[] = []
  for (const [, name = '', call] of bare.matchAll(/(?<![\w.$])([a-zA-Z_:][\w:]*)(\s*\()?/g)) {
    if (call === undefined && !KEYWORDS.has(name)) names.push(name)
  }
  return names
}

let observed: ObservedRelay | undefined
const clients: WeftClient[] = []

afterEach(async () => {
  for (const client of clients.splice(0)) await client.close()
  await observed?.close()
  observed = undefined
})

describe('ops/grafana/weft-relay.json and the alert rules', () => {
  it('finds metric names in PromQL, and only those', () => {
    expect(
      metricNames(
        'histogram_quantile(0.99, sum by (instance, le) (rate(weft_ack_seconds_bucket{instance=~"$instance"}[$__rate_interval]))) > 3 * avg_over_time(a:b:c[1h] offset 10m) and up == 0',
      ),
    ).toEqual(['weft_ack_seconds_bucket', 'a:b:c', 'up'])
  })

  it('query only metrics a relay app serves after some traffic', async () => {
    observed = await startObservedRelay()
    const { url } = observed.running
    const client = observedClient(observed, 'ana')
    const doc = client.open('boards/1')
    await doc.whenSynced()
    openModel(doc.doc, board, { author: 'ana' })
      .collection('tasks')
      .create({ title: 'a', status: 'b' })
    await doc.whenSaved()
    // A change-feed consumer over HTTP: its gauges have a series once it has read.
    const feed = await fetch(`${url}/v1/feed`, {
      headers: { authorization: `Bearer ${await writeToken('indexer')}` },
    })
    expect(feed.status).toBe(200)
    const forged = createClient({ url: url.replace('http', 'ws'), WebSocket, token: 'forged' })
    clients.push(forged)
    const refused = forged.open('boards/1')
    await until(refused, 'status', () => refused.status.state === 'error')
    // Once a delivery failed and was dead-lettered, every labelled series has appeared.
    const samples = await untilScraped(
      url,
      (value) => value('weft_webhook_dead_letters{endpoint="dropped"}') >= 1,
    )
    const served = new Set([...samples.keys()].map((key) => key.replace(/[{ ].*$/, '')))

    const queries = dashboard.panels.flatMap((panel) =>
      panel.type === 'row' ? [] : (panel.targets ?? []).map((target) => target.expr),
    )
    expect(dashboard.panels.filter((panel) => panel.type !== 'row').length).toBeGreaterThan(10)
    const used = new Set([...queries, ...ruleExpressions()].flatMap(metricNames))
    // Recording rules (`level:metric:operation`) and Prometheus's own `up` are not the relay's.
    const relayMetrics = [...used].filter((name) => !name.includes(':') && name !== 'up')
    for (const name of [
      'weft_conflicts_total',
      'weft_repair_syncs_total',
      'weft_refusals_total',
      'weft_webhook_backlog_events',
      'weft_webhook_oldest_dead_letter_age_seconds',
      'weft_ack_seconds_bucket',
      'weft_ready',
      'nodejs_eventloop_lag_p99_seconds',
      'weft_unpersisted_oldest_age_seconds',
      'weft_uncompacted_log_entries_max',
      'weft_feed_consumer_backlog_events',
      'weft_feed_consumer_last_read_age_seconds',
    ])
      expect(relayMetrics).toContain(name)
    expect(relayMetrics.filter((name) => !served.has(name))).toEqual([])
  })
})
