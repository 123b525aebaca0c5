import type { DocHandle, WeftClient } from '@weft/client'
import {
  startFaultProxy,
  startTestRelay,
  testClient,
  until,
  untilSameState,
  type FaultProxy,
  type TestRelay,
} from '@weft/testkit'
import * as prng from 'lib0/prng'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'

/**
 * Clients talk to the real relay through a fault-injecting proxy. Under each fault, every edit
 * from every client must reach every client and the relay's disk, with `pending` zero at the end.
 */

const CLIENTS = 3
const EDITS = 40
const SEED = Number(process.env.WEFT_SEED ?? Math.floor(Math.random() * 2 ** 31))
console.log(`client faults seed=${SEED} (replay with WEFT_SEED=${SEED})`)

let relay: TestRelay
let proxy: FaultProxy
/** The clients through the proxy, in order. */
let clients: WeftClient[]

beforeEach(async () => {
  relay = await startTestRelay()
  proxy = await startFaultProxy({ target: relay.url, seed: SEED })
  clients = []
})

afterEach(async () => {
  await proxy.close()
  await relay.close()
})

const connectThroughProxy = (): DocHandle => {
  const client = testClient(proxy, {
    backoff: { initialMs: 10, maxMs: 200, slowRetryMs: 200, stableMs: 2000 },
    heartbeatIntervalMs: 100,
    heartbeatTimeoutMs: 150,
    connectTimeoutMs: 300,
    repairAfterMs: 100,
    ackTimeoutMs: 400,
  })
  clients.push(client)
  return client.open('shared')
}

/** Each client types unique tokens and sets unique keys, with seeded pauses between edits. */
const editConcurrently = async (
  handles: DocHandle[],
  during?: (step: number) => void,
  round = '',
): Promise<string[]> => {
  const gen = prng.create(SEED)
  const tokens: string[] = []
  for (let step = 0; step < EDITS; step++) {
    during?.(step)
    for (const [index, handle] of handles.entries()) {
      const token = `<${round}${index}:${step}>`
      tokens.push(token)
      const text = handle.doc.getText('t')
      text.insert(prng.uint32(gen, 0, text.length), token)
      handle.doc.getMap('m').set(token, step)
      if (prng.bool(gen) && text.length > 0) text.delete(prng.uint32(gen, 0, text.length - 1), 1)
    }
    await new Promise((resolve) => setTimeout(resolve, prng.uint32(gen, 0, 8)))
  }
  return tokens
}

const expectEverythingDelivered = async (handles: DocHandle[], tokens: string[]): Promise<void> => {
  await Promise.all(handles.map((handle) => handle.whenSaved()))
  await untilSameState(
    handles.map((handle) => handle.doc),
    20_000,
  )
  for (const handle of handles) {
    expect(handle.pending).toBe(0)
    expect([...handle.doc.getMap('m').keys()].sort()).toEqual([...tokens].sort())
  }
  // The relay has it all on disk: a fresh client straight to the relay sees every edit.
  const fresh = testClient(relay).open('shared')
  await fresh.whenSynced()
  expect(fresh.doc.getMap('m').size).toBe(tokens.length)
  expect(fresh.doc.getText('t').toString()).toBe(handles[0]!.doc.getText('t').toString())
}

const start = async (): Promise<DocHandle[]> => {
  const handles = Array.from({ length: CLIENTS }, connectThroughProxy)
  await Promise.all(handles.map((handle) => handle.whenSynced()))
  return handles
}

describe(`clients through a faulty network (seed ${SEED})`, () => {
  it('deliver everything with every frame delayed 0–30 ms', async () => {
    proxy.setDelay({ minMs: 0, maxMs: 30 })
    const handles = await start()
    const tokens = await editConcurrently(handles)
    await expectEverythingDelivered(handles, tokens)
  })

  it('deliver everything with frames duplicated', async () => {
    proxy.setDuplicate(0.3)
    const handles = await start()
    const tokens = await editConcurrently(handles)
    await expectEverythingDelivered(handles, tokens)
    expect(proxy.stats.duplicated).toBeGreaterThan(0)
  })

  it('deliver everything with relay-to-client frames reordered', async () => {
    proxy.setReorder(0.3, 'down')
    const handles = await start()
    const tokens = await editConcurrently(handles)
    await expectEverythingDelivered(handles, tokens)
    expect(proxy.stats.reordered).toBeGreaterThan(0)
  })

  it('deliver everything when connections are cut mid-stream', async () => {
    const handles = await start()
    proxy.cutRandomly(0.03)
    const tokens = await editConcurrently(handles)
    proxy.cutRandomly(0)
    await expectEverythingDelivered(handles, tokens)
    expect(proxy.stats.cuts).toBeGreaterThan(0)
  })

  it('deliver everything after traffic is black-holed without a close (half-open connections)', async () => {
    const handles = await start()
    const dropped = handles.map(() => false)
    handles.forEach((handle, index) =>
      handle.on('status', (status) => {
        if (status.state === 'connecting' && status.reason.includes('ping')) dropped[index] = true
      }),
    )
    const firstHalf = await editConcurrently(handles.slice(0, 1), undefined, 'before-')
    proxy.blackHole(true)
    const tokens = [...firstHalf, ...(await editConcurrently(handles))]
    // Every client notices the dead path by its heartbeat, not by a close.
    await until(
      clients[0]!,
      'status',
      () => dropped.every(Boolean),
      () => `heartbeat drops ${dropped}`,
      5000,
    )
    proxy.blackHole(false)
    await expectEverythingDelivered(handles, tokens)
  })

  it('deliver everything when the relay refuses connections for a while after a cut', async () => {
    const handles = await start()
    const tokens = await editConcurrently(handles, (step) => {
      if (step === 5) {
        proxy.refuse(true)
        proxy.cutAll()
      }
      if (step === 25) proxy.refuse(false)
    })
    await expectEverythingDelivered(handles, tokens)
    expect(proxy.stats.refused).toBeGreaterThan(0)
  })

  it('deliver everything under all of it at once', async () => {
    proxy.setDelay({ minMs: 0, maxMs: 10 })
    proxy.setDuplicate(0.1)
    proxy.setReorder(0.1, 'down')
    const handles = await start()
    proxy.cutRandomly(0.01)
    const tokens = await editConcurrently(handles, (step) => {
      if (step === 10) proxy.blackHole(true)
      if (step === 15) proxy.blackHole(false)
    })
    proxy.cutRandomly(0)
    await expectEverythingDelivered(handles, tokens)
  })
})
