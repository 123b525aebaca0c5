import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createClient, type WeftClient } from '@weft/client'
import { silentLogger } from '@weft/server'
import { until, TEST_SECRET, writeToken } from '@weft/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { parseCommand, type RelayConfig } from '../src/config.js'
import { startRelayServer, type RunningRelay } from '../src/relay-server.js'
import { untilScraped } from './metrics-scrape.js'

let running: RunningRelay | undefined
const clients: WeftClient[] = []
let dataDir = ''

afterEach(async () => {
  for (const client of clients.splice(0)) await client.close()
  await running?.close()
  running = undefined
  rmSync(dataDir, { recursive: true, force: true })
})

describe('GET /metrics', () => {
  it('counts a known workload: connections, updates, persists, acks, fan-out, refusals, store size', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'weft-metrics-'))
    const command = parseCommand(
      ['--port', '0', '--data', dataDir, '--auth', 'jwt', '--jwt-secret', TEST_SECRET],
      {},
    )
    if (command.kind !== 'run') throw new Error('bad test config')
    running = await startRelayServer(command.config as RelayConfig, silentLogger)
    const url = running.url.replace('http', 'ws')
    const connect = (tokenSource: string | (() => Promise<string>)): WeftClient => {
      const client = createClient({ url, WebSocket: WebSocket, token: tokenSource })
      clients.push(client)
      return client
    }
    const writer = connect(() => writeToken('alice')).open('notes')
    const reader = connect(() => writeToken('bob')).open('notes')
    await Promise.all([writer.whenSynced(), reader.whenSynced()])
    for (let n = 0; n < 5; n++) {
      writer.doc.getText('t').insert(0, `edit ${n} `)
      await writer.whenSaved()
    }
    await until(
      reader.doc,
      'update',
      () => reader.doc.getText('t').length === writer.doc.getText('t').length,
    )
    // A forged token: refused, counted as an authentication failure.
    const forged = connect('not-a-token').open('notes')
    await until(forged, 'status', () => forged.status.state === 'error')

    // The relay counts the close once the closing handshake is over: scrape until it shows.
    const samples = await untilScraped(
      running.url,
      (value) => value('weft_sockets_closed_total{code="4401"}') === 1,
      5_000,
    )
    const value = (key: string): number => samples.get(key) ?? Number.NaN
    expect(value('weft_connections')).toBe(2)
    expect(value('weft_rooms_open')).toBe(1)
    expect(value('weft_sockets_opened_total{dialect="weft"}')).toBe(3)
    expect(value('weft_sockets_closed_total{code="4401"}')).toBe(1)
    expect(value('weft_auth_failures_total')).toBe(1)
    expect(value('weft_refusals_total{code="UNAUTHORIZED",scope="socket"}')).toBe(1)
    expect(value('weft_updates_applied_total')).toBeGreaterThanOrEqual(5)
    expect(value('weft_update_bytes_applied_total')).toBeGreaterThan(0)
    expect(value('weft_persist_seconds_count')).toBeGreaterThanOrEqual(5)
    expect(value('weft_persist_batch_entries_sum')).toBeGreaterThanOrEqual(5)
    expect(value('weft_ack_seconds_count')).toBeGreaterThanOrEqual(5)
    expect(value('weft_ack_seconds_bucket{le="10"}')).toBe(value('weft_ack_seconds_count'))
    expect(value('weft_fanout_seconds_count')).toBeGreaterThanOrEqual(5)
    expect(value('weft_frames_in_total')).toBeGreaterThan(5)
    expect(value('weft_bytes_out_total')).toBeGreaterThan(0)
    expect(value('weft_store_bytes')).toBeGreaterThan(0)
    expect(value('weft_slow_consumers_total')).toBe(0)
    expect(samples.has('nodejs_eventloop_lag_seconds')).toBe(true)
    // No bus, so no bus metric: an absent weft_bus_up is a single relay, 0 a bus down.
    expect([...samples.keys()].filter((key) => key.startsWith('weft_bus_'))).toEqual([])
  })
})
