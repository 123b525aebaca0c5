/**
 * A relay app for the metrics tests: a board schema with an owner-only collection, and two
 * webhook endpoints posting to a receiver that fails every delivery.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { defineSchema, field, schemaToJson } from '@weft/doc'
import { silentLogger } from '@weft/server'
import { createClient, type WeftClient } from '@weft/client'
import { TEST_SECRET, writeToken } from '@weft/testkit'
import { onTestFinished } from 'vitest'
import { WebSocket } from 'ws'
import { parseCommand, type RelayConfig } from '../src/config.js'
import { startRelayServer, type RunningRelay } from '../src/relay-server.js'

/** The schema of `boards/*`; `notes` may be updated by their owner only. */
export const board = defineSchema({
  version: 1,
  collections: {
    tasks: { title: field.string(), status: field.string() },
    notes: { text: field.string() },
  },
})

/** The relay, and what stops it and its receiver and removes its files. */
export interface ObservedRelay {
  readonly running: RunningRelay
  close(): Promise<void>
}

/**
 * Starts the relay app on port 0 (LevelDB in a temp dir, JWT auth with TEST_SECRET, a feed
 * kept 10 minutes). Endpoint `stuck` retries for minutes, so its backlog stays; `dropped` has
 * one attempt, so its deliveries become dead letters. `args` are further command-line flags.
 */
export const startObservedRelay = async (args: readonly string[] = []): Promise<ObservedRelay> => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-observed-'))
  const hook = createServer((_request, response) => response.writeHead(500).end())
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`
  const schemas = join(dir, 'schemas.json')
  const rules = { notes: { update: 'owner' } }
  const schema = schemaToJson(board)
  writeFileSync(schemas, JSON.stringify({ schemas: [{ pattern: 'boards/*', schema, rules }] }))
  const secrets = ['a-webhook-secret-of-some-length']
  const webhooks = join(dir, 'webhooks.json')
  const endpoints = [
    { id: 'stuck', url, secrets, initialBackoffMs: 60_000, start: 'oldest' },
    { id: 'dropped', url, secrets, maxAttempts: 1, start: 'oldest' },
  ]
  writeFileSync(webhooks, JSON.stringify({ endpoints }))
  const flags = ['--port', '0', '--data', join(dir, 'data'), '--auth', 'jwt']
  flags.push('--jwt-secret', TEST_SECRET, '--history-ms', '600000')
  flags.push('--schemas-file', schemas, '--webhooks-file', webhooks, ...args)
  const command = parseCommand(flags, {})
  if (command.kind !== 'run') throw new Error(`bad test config: ${JSON.stringify(command)}`)
  const running = await startRelayServer(command.config as RelayConfig, silentLogger)
  return {
    running,
    close: async () => {
      await running.close()
      await new Promise((resolve) => hook.close(resolve))
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** A Weft client of `observed` with a write token for `subject`, closed when the test finishes. */
export const observedClient = (observed: ObservedRelay, subject: string): WeftClient => {
  const client = createClient({
    url: observed.running.url.replace('http', 'ws'),
    WebSocket,
    token: () => writeToken(subject),
  })
  onTestFinished(() => client.close())
  return client
}
