import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createClient, type DocHandle, type WeftClient } from '@weft/client'
import { spawnRelay, untilSameState, type RelayProcess } from '@weft/testkit'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url))

let dataDir: string
let clients: WeftClient[]
let relays: RelayProcess[]

const start = async (): Promise<RelayProcess> => {
  const relay = await spawnRelay(MAIN, dataDir)
  relays.push(relay)
  return relay
}

const open = async (url: string, name: string): Promise<DocHandle> => {
  const client = createClient({ url, WebSocket: WebSocket })
  clients.push(client)
  const handle = client.open(name)
  await handle.whenSynced()
  return handle
}

const closeClients = async (): Promise<void> => {
  await Promise.all(clients.splice(0).map((client) => client.close()))
}

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'weft-process-'))
  clients = []
  relays = []
})

afterEach(async () => {
  await closeClients()
  for (const relay of relays) if (relay.child.exitCode === null) await relay.stop('SIGKILL')
  await rm(dataDir, { recursive: true, force: true })
})

// Each test starts two relay processes (about 1.5 s each on a quiet machine, more under load).
describe('the relay process', { timeout: 20_000 }, () => {
  it('keeps every document across a restart on the same data directory', async () => {
    const first = await start()
    const names = ['alpha', 'beta', 'gamma']
    for (const name of names) {
      const handle = await open(first.url, name)
      handle.doc.getText('t').insert(0, `content of ${name}`)
      handle.doc.getMap('m').set('name', name)
      await handle.whenSaved()
    }
    await closeClients()
    expect(await first.stop('SIGTERM')).toBe(0)

    const second = await start()
    for (const name of names) {
      const handle = await open(second.url, name)
      expect(handle.doc.getText('t').toString()).toBe(`content of ${name}`)
      expect(handle.doc.getMap('m').get('name')).toBe(name)
    }
  })

  it('loses nothing acknowledged when killed with SIGKILL right after a saved', async () => {
    const relay = await start()
    const writer = await open(relay.url, 'kill')
    const text = writer.doc.getText('t')
    // Keep writing while acks come back; kill at the first ack after 200 edits.
    const killed = new Promise<number>((resolve) => {
      writer.on('saved', ({ ref }) => {
        if (ref >= 200) {
          relay.child.kill('SIGKILL')
          resolve(ref)
        }
      })
    })
    // Large edits keep the relay's disk busy, so acknowledged and unwritten edits would differ.
    const padding = 'x'.repeat(16 * 1024)
    const tokens: string[] = []
    for (let index = 0; index < 400; index++) {
      const token = `<${index}>`
      tokens.push(token)
      text.insert(text.length, token + padding)
      if (index % 10 === 9) await new Promise((resolve) => setImmediate(resolve))
    }
    const ackedRef = await killed
    expect(await relays[0]!.stop('SIGKILL')).toBe('SIGKILL')
    await closeClients()

    const restarted = await start()
    const reader = await open(restarted.url, 'kill')
    const recovered = reader.doc.getText('t').toString()
    // Edit n (1-based ref n) was acknowledged when ackedRef >= n.
    for (const token of tokens.slice(0, ackedRef)) expect(recovered).toContain(token)
    expect(ackedRef).toBeGreaterThanOrEqual(200)
  })

  it.each(['SIGTERM', 'SIGINT'] as const)(
    'flushes applied updates on %s and exits 0',
    async (signal) => {
      const relay = await start()
      const writer = await open(relay.url, 'term')
      const reader = await open(relay.url, 'term')
      writer.doc.getText('t').insert(0, 'written just before shutdown')
      // The reader has it, so the relay applied it; do not wait for saved.
      await untilSameState([writer.doc, reader.doc])
      expect(await relay.stop(signal)).toBe(0)
      expect(relay.output()).toContain('relay stopped')
      await closeClients()

      const restarted = await start()
      const fresh = await open(restarted.url, 'term')
      expect(fresh.doc.getText('t').toString()).toBe('written just before shutdown')
    },
  )
})
