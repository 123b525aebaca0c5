import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { verifyWebhook } from '@weft/protocol'
import { EventEmitter } from 'node:events'
import { silentLogger, type Logger } from '@weft/server'
import { nextEvent } from '@weft/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { parseCommand, type RelayConfig } from '../src/config.js'
import { startRelayServer, type RunningRelay } from '../src/relay-server.js'

const ADMIN = 'an-admin-token-of-at-least-32-characters'
const SECRET = 'webhook-secret-0123456789'
let running: RunningRelay | undefined
let receiver: Server | undefined
let dir = ''

afterEach(async () => {
  await running?.close()
  running = undefined
  receiver?.closeAllConnections()
  await new Promise<void>((resolve) =>
    receiver === undefined ? resolve() : receiver.close(() => resolve()),
  )
  receiver = undefined
  rmSync(dir, { recursive: true, force: true })
})

const configOf = (extra: string[]): RelayConfig => {
  const command = parseCommand(
    ['--port', '0', '--data', join(dir, 'data'), '--auth', 'open', ...extra],
    {},
  )
  if (command.kind !== 'run') throw new Error(`bad test config: ${JSON.stringify(command)}`)
  return command.config
}

const schemas = {
  schemas: [
    {
      pattern: 'boards/*',
      schema: {
        version: 1,
        collections: {
          tasks: { title: 'string', estimate: { type: 'number', nullable: true } },
        },
      },
    },
  ],
}

/** A webhook receiver answering `status()`; resolves `bodies` as they arrive. */
const startReceiver = async (
  status: () => number,
): Promise<{ url: string; next: () => Promise<{ body: string; signature: string }> }> => {
  const waiting: Array<(value: { body: string; signature: string }) => void> = []
  const arrived: Array<{ body: string; signature: string }> = []
  receiver = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const delivery = {
        body: Buffer.concat(chunks).toString('utf8'),
        signature: String(request.headers['weft-signature']),
      }
      const code = status()
      response.writeHead(code).end()
      if (code !== 200) return
      const take = waiting.shift()
      if (take === undefined) arrived.push(delivery)
      else take(delivery)
    })
  })
  await new Promise<void>((resolve) => receiver?.listen(0, '127.0.0.1', resolve))
  const { port } = receiver.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/weft`,
    next: () =>
      new Promise((resolve, reject) => {
        const ready = arrived.shift()
        if (ready !== undefined) return resolve(ready)
        waiting.push(resolve)
        setTimeout(() => reject(new Error('no delivery within 10 s')), 10_000).unref()
      }),
  }
}

describe('the relay app with schemas and webhooks', () => {
  it('describes record changes from the HTTP API to a signed webhook, and operators see it', async () => {
    dir = mkdtempSync(join(tmpdir(), 'weft-services-'))
    let failing = true
    const hook = await startReceiver(() => (failing ? 500 : 200))
    writeFileSync(join(dir, 'schemas.json'), JSON.stringify(schemas))
    writeFileSync(
      join(dir, 'webhooks.json'),
      JSON.stringify({
        endpoints: [
          { id: 'tasks', url: hook.url, secrets: [SECRET], docs: ['boards/*'], maxAttempts: 1 },
        ],
      }),
    )
    // Log lines as events, to wait for the dead letter.
    const lines = new EventEmitter()
    const logger: Logger = { ...silentLogger, error: (message) => lines.emit('line', message) }
    running = await startRelayServer(
      configOf([
        '--schemas-file',
        join(dir, 'schemas.json'),
        '--webhooks-file',
        join(dir, 'webhooks.json'),
        '--admin-token',
        ADMIN,
      ]),
      logger,
    )
    const post = (id: string) =>
      fetch(`${running?.url}/v1/docs/boards%2F1/records`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-correlation-id': `job-${id}` },
        body: JSON.stringify({
          changes: [{ op: 'create', collection: 'tasks', id, fields: { title: `Task ${id}` } }],
        }),
      })
    const admin = (path: string, method = 'GET') =>
      fetch(`${running?.url}/admin/webhooks${path}`, {
        method,
        headers: { authorization: `Bearer ${ADMIN}` },
      })
    // The first delivery fails its only attempt: a dead letter.
    const deadLettered = nextEvent(
      lines,
      'line',
      (line) => line === 'webhook delivery dead-lettered',
    )
    expect((await post('t1')).status).toBe(200)
    await deadLettered
    const dead = (await (await admin('/tasks/dead')).json()) as Array<{
      events: Array<{ doc: string }>
    }>
    expect(dead.map((letter) => letter.events.map((event) => event.doc))).toEqual([['boards/1']])
    failing = false
    expect((await post('t2')).status).toBe(200)
    const live = await hook.next()
    expect(
      await verifyWebhook({ body: live.body, header: live.signature, secret: SECRET }),
    ).toMatchObject({ ok: true })
    const payload = JSON.parse(live.body) as {
      events: Array<{ doc: string; seq: number; correlationId: string; events: unknown[] }>
    }
    expect(payload.events).toEqual([
      expect.objectContaining({
        doc: 'boards/1',
        seq: 2,
        correlationId: 'job-t2',
        events: [
          expect.objectContaining({
            type: 'record.created',
            collection: 'tasks',
            id: 't2',
            record: expect.objectContaining({ title: 'Task t2', estimate: null }),
          }),
        ],
      }),
    ])
    expect(await (await admin('/tasks/dead/replay', 'POST')).json()).toEqual({
      delivered: 1,
      remaining: 0,
    })
    const replayed = JSON.parse((await hook.next()).body) as { events: Array<{ seq: number }> }
    expect(replayed.events.map((event) => event.seq)).toEqual([1])
    const [status] = (await (await admin('')).json()) as Array<Record<string, unknown>>
    expect(status).toMatchObject({ id: 'tasks', delivered: 1, deadLettered: 1, failing: null })
    const metrics = await (await fetch(`${running.url}/metrics`)).text()
    expect(metrics).toMatch(
      /weft_webhook_deliveries_total\{endpoint="tasks",outcome="dead-lettered"\} 1/,
    )
    expect(metrics).toMatch(
      /weft_webhook_deliveries_total\{endpoint="tasks",outcome="replayed"\} 1/,
    )
    expect((await admin('/nope/dead')).status).toBe(404)
  })

  it('refuses bad schema and webhook files before serving, naming the file and the entry', async () => {
    dir = mkdtempSync(join(tmpdir(), 'weft-services-'))
    const file = (name: string, content: unknown): string => {
      writeFileSync(
        join(dir, name),
        typeof content === 'string' ? content : JSON.stringify(content),
      )
      return join(dir, name)
    }
    await expect(
      startRelayServer(configOf(['--schemas-file', file('bad.json', '{ nope')]), silentLogger),
    ).rejects.toThrow(/--schemas-file .*bad\.json is not valid JSON/)
    const badField = {
      schemas: [{ pattern: 'a/*', schema: { version: 1, collections: { t: { x: 'date' } } } }],
    }
    await expect(
      startRelayServer(configOf(['--schemas-file', file('field.json', badField)]), silentLogger),
    ).rejects.toThrow(/schemas\[0\]\.schema: collections\.t\.x/)
    const badHook = {
      endpoints: [
        {
          id: 'x',
          url: 'http://127.0.0.1:9/',
          secrets: ['super-secret-value-1234'],
          maxAttempts: 0,
        },
      ],
    }
    const failure = startRelayServer(
      configOf(['--webhooks-file', file('hooks.json', badHook)]),
      silentLogger,
    )
    await expect(failure).rejects.toThrow(/endpoints\[0\]\.maxAttempts/)
    await expect(failure).rejects.not.toThrow(/super-secret-value/)
    const noFeed = parseCommand(
      [
        '--auth',
        'open',
        '--history-ms',
        '0',
        '--webhooks-file',
        file('ok.json', { endpoints: [] }),
      ],
      {},
    )
    expect(noFeed).toMatchObject({
      kind: 'invalid',
      message: expect.stringContaining('--history-ms'),
    })
  })
})
