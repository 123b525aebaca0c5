/**
 * Updates from other relays: those a room takes in one turn are applied together, as one update,
 * whatever their order (Yjs would otherwise merge what waits for missing dependencies into each
 * one), and reach the room's sockets as one frame.
 */
import { decodeMessage, type WeftMessage } from '@weft/protocol'
import { RawSocket, startTestRelay, type TestRelay } from '@weft/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { MemoryStore } from '../src/memory-store.js'
import type { BusMessage, RelayBus, RelayBusListener } from '../src/relay-bus.js'

/** A bus whose messages from "other relays" the test hands in. */
class HandBus implements RelayBus {
  readonly id = 'relay-here'
  readonly up = true
  readonly #listeners = new Set<RelayBusListener>()

  listen(listener: RelayBusListener): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  async subscribe(): Promise<void> {}

  unsubscribe(): void {}

  publish(): void {}

  deliver(message: BusMessage): void {
    for (const listener of this.#listeners) listener.message(message)
  }
}

let relay: TestRelay | undefined
afterEach(async () => {
  await relay?.close()
  relay = undefined
})

/** Three edits of another relay's client, each depending on the one before. */
const threeEdits = (): Uint8Array[] => {
  const doc = new Y.Doc()
  doc.clientID = 4242
  const edits: Uint8Array[] = []
  doc.on('update', (update: Uint8Array) => edits.push(update))
  for (const word of ['one ', 'two ', 'three'])
    doc.getText('t').insert(doc.getText('t').length, word)
  return edits
}

const updatesOf = (socket: RawSocket, from: number): WeftMessage[] =>
  socket.frames
    .slice(from)
    .map((frame) => decodeMessage(frame))
    .filter((message) => message.type === 'update' || message.type === 'updates')

describe('updates from other relays', () => {
  it.each([
    ['in order', [0, 1, 2]],
    ['out of order', [2, 0, 1]],
  ])('taken in one turn are applied as one and forwarded in one frame (%s)', async (_, order) => {
    const bus = new HandBus()
    relay = await startTestRelay({ store: new MemoryStore(), bus })
    const socket = await RawSocket.weft(relay.url)
    socket.sendMessage({ type: 'open', doc: 'notes', stateVector: Uint8Array.of(0) })
    await socket.nextMessage((message) => message.type === 'saved')
    const before = socket.frames.length

    const edits = threeEdits()
    for (const index of order) {
      bus.deliver({
        kind: 'update',
        doc: 'notes',
        origin: 'relay-there',
        seq: 0,
        updates: [edits[index] as Uint8Array],
      })
    }
    await socket.nextMessage((message) => message.type === 'update')
    await new Promise((resolve) => setTimeout(resolve, 50))
    const forwarded = updatesOf(socket, before)
    expect(forwarded).toHaveLength(1)
    const copy = new Y.Doc()
    for (const message of forwarded)
      if (message.type === 'update') Y.applyUpdate(copy, message.update)
    expect(copy.getText('t').toString()).toBe('one two three')
    const held = new Y.Doc()
    Y.applyUpdate(held, await relay.relay.documents.update('notes'))
    expect(held.getText('t').toString()).toBe('one two three')
    socket.close()
  })
})
