import { silentLogger } from '../src/logger.js'
import { silentMetrics } from '../src/metrics.js'
import { decodeYwsMessage } from '../src/yws-codec.js'
import { Room, type RoomSettings } from '../src/room.js'
import { MIN_PRESENCE_TICK_MS, presenceTickMs } from '../src/room-awareness.js'
import * as decoding from 'lib0/decoding'
import { describe, expect, it } from 'vitest'
import * as awarenessProtocol from 'y-protocols/awareness'
import * as Y from 'yjs'
import { ControlledStore, deferred, RecordingPeer } from './fakes.js'

const settings = (
  store: ControlledStore,
  onFailed: RoomSettings['onFailed'] = () => {},
): RoomSettings => ({
  store,
  logger: silentLogger,
  metrics: silentMetrics,
  compactAfterUpdates: 1000,
  compactAfterBytes: 1 << 24,
  onFailed,
})

const textUpdate = (text: string, clientID = 7): Uint8Array => {
  const doc = new Y.Doc()
  doc.clientID = clientID
  doc.getText('t').insert(0, text)
  return Y.encodeStateAsUpdate(doc)
}

/** A client's awareness under `clientID` with `state`, and an update carrying its current state. */
const presence = (clientID: number, state: Record<string, unknown>) => {
  const doc = new Y.Doc()
  doc.clientID = clientID
  const awareness = new awarenessProtocol.Awareness(doc)
  awareness.setLocalState(state)
  return {
    awareness,
    update: () => awarenessProtocol.encodeAwarenessUpdate(awareness, [clientID]),
  }
}

/** The states each awareness message delivered to `peer` carries, in order. */
const statesIn = (peer: RecordingPeer): [number, unknown][][] =>
  peer.delivered
    .filter((message) => message.content.kind === 'awareness')
    .map((message) => {
      const seen: [number, unknown][] = []
      const content = message.content as { update: Uint8Array }
      // Decoded by hand: an Awareness would hide entries that change nothing for it.
      const decoder = decoding.createDecoder(content.update)
      const count = decoding.readVarUint(decoder)
      for (let index = 0; index < count; index++) {
        const id = decoding.readVarUint(decoder)
        decoding.readVarUint(decoder)
        seen.push([id, JSON.parse(decoding.readVarString(decoder))])
      }
      return seen
    })

const presenceTick = (): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, MIN_PRESENCE_TICK_MS + 20))

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))
/** Updates of one tick are applied together at its end. */
const endOfTick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

describe('Room', () => {
  it('acknowledges an update only after the store reports it durable', async () => {
    const store = new ControlledStore()
    const room = await Room.load('doc', settings(store))
    const writer = new RecordingPeer()
    room.join(writer)
    const gate = deferred()
    store.appendGate = gate.promise
    expect(room.applyUpdate(writer, textUpdate('hi'), 5)).toBeUndefined()
    await endOfTick()
    await turn()
    expect(store.appends).toHaveLength(1)
    expect(writer.saves).toEqual([])
    gate.resolve()
    await room.whenDurable()
    expect(writer.saves).toHaveLength(1)
    expect(writer.saves[0]?.ref).toBe(5)
    expect(Y.decodeStateVector(writer.saves[0]!.stateVector).get(7)).toBe(2)
  })

  it('keeps one append per room in flight: what arrives meanwhile goes to disk together next', async () => {
    const store = new ControlledStore()
    const room = await Room.load('doc', settings(store))
    const [a, b] = [new RecordingPeer('a'), new RecordingPeer('b')]
    room.join(a)
    room.join(b)
    const gate = deferred()
    store.appendGate = gate.promise
    room.applyUpdate(a, textUpdate('one', 1), 1)
    await endOfTick()
    await turn()
    expect(store.appends).toHaveLength(1)
    // Three more turns of writes from both peers while the first append is on its way.
    for (const [index, peer] of [a, b, a].entries()) {
      room.applyUpdate(peer, textUpdate(`more${index}`, 10 + index), index + 2)
      await endOfTick()
      await turn()
    }
    expect(store.appends).toHaveLength(1)
    expect(a.saves).toEqual([])
    store.appendGate = null
    gate.resolve()
    await room.whenDurable()
    expect(store.appends).toHaveLength(2)
    expect(store.appends[1]).toHaveLength(3)
    expect(a.saves.map((save) => save.ref)).toEqual([1, 4])
    expect(b.saves.map((save) => save.ref)).toEqual([3])
    await room.close()
  })

  it("refuses structs and presence under another owner's client id, and accepts what changes nothing", async () => {
    const store = new ControlledStore()
    const room = await Room.load('doc', settings(store))
    const [alice, mallory] = [
      new RecordingPeer('alice', 'alice'),
      new RecordingPeer('mallory', 'mallory'),
    ]
    room.join(alice)
    room.join(mallory)
    const source = new Y.Doc()
    source.clientID = 7
    const updates: Uint8Array[] = []
    source.on('update', (update: Uint8Array) => updates.push(update))
    source.getText('t').insert(0, 'honest')
    expect(room.applyUpdate(alice, updates[0]!, 1)).toBeUndefined()
    await endOfTick()
    // Mallory continues client 7's clock: refused, nothing applied or forwarded.
    source.getText('t').insert(6, ' and forged')
    const forged = updates[1]!
    expect(room.applyUpdate(mallory, forged, 1)?.code).toBe('FORBIDDEN')
    await endOfTick()
    expect(room.doc.getText('t').toString()).toBe('honest')
    expect(alice.delivered).toEqual([])
    // Re-sending what the room has is not a write; Mallory's own client id is hers.
    expect(room.applyUpdate(mallory, updates[0]!, 2)).toBeUndefined()
    expect(room.applyUpdate(mallory, textUpdate('mine', 8), 3)).toBeUndefined()
    // Alice herself may go on.
    expect(room.applyUpdate(alice, forged, 2)).toBeUndefined()
    await endOfTick()
    expect(room.doc.getText('t').toString()).toContain('honest and forged')

    // Presence: client 7 is Alice's. An echo of her state is fine; a newer state is not.
    const aliceAwareness = new awarenessProtocol.Awareness(source)
    aliceAwareness.setLocalState({ name: 'Alice' })
    const announce = awarenessProtocol.encodeAwarenessUpdate(aliceAwareness, [7])
    expect(room.applyAwareness(alice, announce)).toBeUndefined()
    expect(room.applyAwareness(mallory, announce)).toBeUndefined()
    aliceAwareness.setLocalState({ name: 'Mallory in disguise' })
    const spoof = awarenessProtocol.encodeAwarenessUpdate(aliceAwareness, [7])
    expect(room.applyAwareness(mallory, spoof)?.code).toBe('FORBIDDEN')
    expect(room.awareness.getStates().get(7)).toEqual({ name: 'Alice' })
    aliceAwareness.destroy()
    await room.close()
  })

  it('fans an update out to the other peers at once, not back to its sender', async () => {
    const store = new ControlledStore()
    const room = await Room.load('doc', settings(store))
    const [writer, reader] = [new RecordingPeer('w'), new RecordingPeer('r')]
    room.join(writer)
    room.join(reader)
    const update = textUpdate('hello')
    room.applyUpdate(writer, update, 1)
    await endOfTick()
    expect(reader.delivered.flatMap((message) => message.updates)).toEqual([update])
    expect(writer.delivered).toEqual([])
    expect(room.doc.getText('t').toString()).toBe('hello')
  })

  it('encodes a fan-out message once per dialect, shared by every recipient', async () => {
    const store = new ControlledStore()
    const room = await Room.load('doc', settings(store))
    const [writer, first, second] = [
      new RecordingPeer('w'),
      new RecordingPeer('a'),
      new RecordingPeer('b'),
    ]
    for (const peer of [writer, first, second]) room.join(peer)
    room.applyUpdate(writer, textUpdate('shared'), 1)
    await endOfTick()
    const [message] = first.delivered
    expect(second.delivered[0]).toBe(message)
    expect(message?.frames('weft')).toBe(message?.frames('weft'))
    expect(message?.frames('y-websocket')).toBe(message?.frames('y-websocket'))
    await room.close()
  })

  it('applies a batch in one transaction, and forwards and stores what it changed as one update', async () => {
    const store = new ControlledStore()
    const room = await Room.load('doc', settings(store))
    const [writer, reader] = [new RecordingPeer('w'), new RecordingPeer('r')]
    room.join(writer)
    room.join(reader)
    const source = new Y.Doc()
    const updates: Uint8Array[] = []
    source.on('update', (update: Uint8Array) => updates.push(update))
    for (const char of 'batch') source.getText('t').insert(source.getText('t').length, char)
    let transactions = 0
    room.doc.on('afterTransaction', () => transactions++)
    expect(room.applyUpdates(writer, updates, 5)).toBeUndefined()
    await endOfTick()
    expect(transactions).toBe(1)
    expect(room.doc.getText('t').toString()).toBe('batch')
    expect(reader.delivered).toHaveLength(1)
    const content = reader.delivered[0]!.content
    if (content.kind !== 'update') throw new Error(`expected one update, got ${content.kind}`)
    // Five one-character updates become one: smaller than the five together.
    const sent = updates.reduce((sum, update) => sum + update.length, 0)
    expect(content.update.length).toBeLessThan(sent)
    const replica = new Y.Doc()
    Y.applyUpdate(replica, content.update)
    expect(replica.getText('t').toString()).toBe('batch')
    const [ywsFrame, ...more] = reader.delivered[0]!.frames('y-websocket')
    expect(more).toEqual([])
    expect(decodeYwsMessage(ywsFrame!).type).toBe('update')
    await room.whenDurable()
    expect(store.appends).toHaveLength(1)
    expect(store.appends[0]).toHaveLength(1)
    const fromDisk = new Y.Doc()
    Y.applyUpdate(fromDisk, store.appends[0]![0]!.update)
    expect(fromDisk.getText('t').toString()).toBe('batch')
    expect(writer.saves.map((save) => save.ref)).toEqual([5])
    await room.close()
  })

  it('refuses a whole batch when one of its updates is malformed', async () => {
    const store = new ControlledStore()
    const room = await Room.load('doc', settings(store))
    const [writer, reader] = [new RecordingPeer('w'), new RecordingPeer('r')]
    room.join(writer)
    room.join(reader)
    const good = textUpdate('good')
    const bad = textUpdate('bad', 8).slice(0, 5)
    expect(room.applyUpdates(writer, [good, bad], 2)?.code).toBe('BAD_UPDATE')
    expect(room.doc.getText('t').toString()).toBe('')
    expect(reader.delivered).toEqual([])
    await room.whenDurable()
    expect(store.appends).toEqual([])
    await room.close()
  })

  it('refuses a truncated update whole: document, store and peers untouched', async () => {
    const store = new ControlledStore()
    const room = await Room.load('doc', settings(store))
    const [writer, reader] = [new RecordingPeer('w'), new RecordingPeer('r')]
    room.join(writer)
    room.join(reader)
    room.applyUpdate(writer, textUpdate('keep'), 1)
    await room.whenDurable()
    const before = Y.encodeStateAsUpdate(room.doc)
    const deleting = new Y.Doc()
    Y.applyUpdate(deleting, before)
    deleting.getText('t').delete(0, 2)
    const full = Y.encodeStateAsUpdate(deleting)
    for (let length = 1; length < full.length; length++) {
      const error = room.applyUpdate(writer, full.slice(0, length), 2)
      expect(error?.code).toBe('BAD_UPDATE')
    }
    await room.whenDurable()
    expect(Y.encodeStateAsUpdate(room.doc)).toEqual(before)
    expect(store.appends).toHaveLength(1)
    expect(reader.delivered).toHaveLength(1)
  })

  it('on a storage failure sends no ack, tells every peer, and reports itself failed', async () => {
    const store = new ControlledStore()
    let failedRoom: Room | null = null
    const room = await Room.load(
      'doc',
      settings(store, (failed) => (failedRoom = failed)),
    )
    const [writer, other] = [new RecordingPeer('w'), new RecordingPeer('o')]
    room.join(writer)
    room.join(other)
    const gate = deferred()
    store.appendGate = gate.promise
    room.applyUpdate(writer, textUpdate('lost?'), 3)
    await turn()
    gate.reject(new Error('ENOSPC'))
    await room.whenDurable()
    expect(writer.saves).toEqual([])
    expect(writer.failures.map((error) => error.code)).toEqual(['STORAGE_FAILED'])
    expect(other.failures.map((error) => error.code)).toEqual(['STORAGE_FAILED'])
    expect(failedRoom).toBe(room)
    expect(room.applyUpdate(writer, textUpdate('more', 8), 4)?.code).toBe('STORAGE_FAILED')
  })

  it('acknowledges an update that changes nothing only after earlier writes are durable', async () => {
    const store = new ControlledStore()
    const room = await Room.load('doc', settings(store))
    const [first, second] = [new RecordingPeer('a'), new RecordingPeer('b')]
    room.join(first)
    room.join(second)
    const gate = deferred()
    store.appendGate = gate.promise
    const update = textUpdate('same')
    room.applyUpdate(first, update, 1)
    await turn()
    room.applyUpdate(second, update, 9)
    await turn()
    expect(store.appends).toHaveLength(1)
    expect(second.saves).toEqual([])
    gate.resolve()
    await room.whenDurable()
    expect(second.saves.map((save) => save.ref)).toEqual([9])
  })

  it('stores updates with missing dependencies whole, so they survive a reload', async () => {
    const store = new ControlledStore()
    const room = await Room.load('doc', settings(store))
    const peer = new RecordingPeer()
    room.join(peer)
    const source = new Y.Doc()
    source.clientID = 11
    const updates: Uint8Array[] = []
    source.on('update', (update: Uint8Array) => updates.push(update))
    source.getText('t').insert(0, 'ab')
    source.getText('t').insert(2, 'cd')
    room.applyUpdate(peer, updates[1]!, 1)
    await room.whenDurable()
    expect(room.doc.store.pendingStructs).not.toBeNull()
    await room.close()
    const reloaded = await Room.load('doc', settings(store))
    reloaded.applyUpdate(peer, updates[0]!, 2)
    await endOfTick()
    expect(reloaded.doc.getText('t').toString()).toBe('abcd')
  })

  it('forwards deletions that waited for their structs once the structs arrive', async () => {
    const store = new ControlledStore()
    const room = await Room.load('doc', settings(store))
    const [writer, reader] = [new RecordingPeer('w'), new RecordingPeer('r')]
    room.join(writer)
    room.join(reader)
    const source = new Y.Doc()
    const updates: Uint8Array[] = []
    source.on('update', (update: Uint8Array) => updates.push(update))
    source.getText('t').insert(0, 'abc')
    source.getText('t').delete(1, 1)
    // The deletion arrives first (it waits), then the insertion it applies to.
    room.applyUpdate(writer, updates[1]!, 1)
    await endOfTick()
    room.applyUpdate(writer, updates[0]!, 2)
    await endOfTick()
    expect(room.doc.getText('t').toString()).toBe('ac')
    const replica = new Y.Doc()
    for (const message of reader.delivered)
      for (const update of message.updates) Y.applyUpdate(replica, update)
    expect(replica.getText('t').toString()).toBe('ac')
    await room.close()
  })

  it('withdraws the awareness states of a peer that leaves and tells the others', async () => {
    const store = new ControlledStore()
    const room = await Room.load('doc', settings(store))
    const [leaving, staying] = [new RecordingPeer('l'), new RecordingPeer('s')]
    room.join(leaving)
    room.join(staying)
    const { awareness, update } = presence(11, { name: 'Ada' })
    room.applyAwareness(leaving, update())
    expect(room.awareness.getStates().get(11)).toEqual({ name: 'Ada' })
    await presenceTick()
    expect(statesIn(staying)).toEqual([[[11, { name: 'Ada' }]]])
    room.leave(leaving)
    expect(room.awareness.getStates().has(11)).toBe(false)
    expect(statesIn(staying)).toEqual([[[11, { name: 'Ada' }]], [[11, null]]])
    awareness.destroy()
    await room.close()
  })

  it('sends presence changed within a tick as one message, never back to their sender', async () => {
    const room = await Room.load('doc', settings(new ControlledStore()))
    const peers = [new RecordingPeer('a'), new RecordingPeer('b'), new RecordingPeer('c')]
    for (const peer of peers) room.join(peer)
    const [a, b, c] = peers as [RecordingPeer, RecordingPeer, RecordingPeer]
    const ada = presence(1, { cursor: 0 })
    const bob = presence(2, { cursor: 0 })
    room.applyAwareness(a, ada.update())
    await presenceTick()
    for (const peer of peers) peer.delivered.length = 0
    // Within one tick: Ada moves three times, Bob once.
    for (const cursor of [1, 2, 3]) {
      ada.awareness.setLocalStateField('cursor', cursor)
      room.applyAwareness(a, ada.update())
    }
    room.applyAwareness(b, bob.update())
    expect(c.delivered).toEqual([])
    await presenceTick()
    expect(statesIn(c)).toEqual([
      [
        [1, { cursor: 3 }],
        [2, { cursor: 0 }],
      ],
    ])
    expect(statesIn(a)).toEqual([[[2, { cursor: 0 }]]])
    expect(statesIn(b)).toEqual([[[1, { cursor: 3 }]]])
    ada.awareness.destroy()
    bob.awareness.destroy()
    await room.close()
  })

  it('lengthens the presence tick with the peers of a room, within 50-250 ms', () => {
    expect([1, 50, 51, 100, 250, 1000].map(presenceTickMs)).toEqual([50, 50, 51, 100, 250, 250])
  })

  it('forwards nothing for presence that changes nothing (a stock client sending states back)', async () => {
    const room = await Room.load('doc', settings(new ControlledStore()))
    const [a, b] = [new RecordingPeer('a'), new RecordingPeer('b')]
    room.join(a)
    room.join(b)
    const ada = presence(1, { cursor: 5 })
    room.applyAwareness(a, ada.update())
    await presenceTick()
    expect(statesIn(b)).toEqual([[[1, { cursor: 5 }]]])
    // b echoes Ada's state as it received it: same clock, same state.
    room.applyAwareness(b, ada.update())
    await presenceTick()
    expect(statesIn(a)).toEqual([])
    expect(statesIn(b)).toEqual([[[1, { cursor: 5 }]]])
    // A renewal (same state, newer clock) is forwarded: it keeps the state from timing out.
    ada.awareness.setLocalState({ cursor: 5 })
    room.applyAwareness(a, ada.update())
    await presenceTick()
    expect(statesIn(b)).toEqual([[[1, { cursor: 5 }]], [[1, { cursor: 5 }]]])
    // One update echoing Ada's state and carrying b's own: only b's goes on, to a.
    const bob = presence(2, { cursor: 9 })
    const echoAndOwn = new awarenessProtocol.Awareness(new Y.Doc())
    awarenessProtocol.applyAwarenessUpdate(echoAndOwn, ada.update(), 'relay')
    awarenessProtocol.applyAwarenessUpdate(echoAndOwn, bob.update(), 'own')
    room.applyAwareness(b, awarenessProtocol.encodeAwarenessUpdate(echoAndOwn, [1, 2]))
    await presenceTick()
    expect(statesIn(a)).toEqual([[[2, { cursor: 9 }]]])
    expect(statesIn(b)).toHaveLength(2)
    echoAndOwn.destroy()
    bob.awareness.destroy()
    ada.awareness.destroy()
    await room.close()
  })

  it('compacts in the background once the log reaches compactAfterUpdates', async () => {
    const store = new ControlledStore()
    const room = await Room.load('doc', { ...settings(store), compactAfterUpdates: 3 })
    const peer = new RecordingPeer()
    room.join(peer)
    for (const [index, text] of ['a', 'b'].entries()) {
      room.applyUpdate(peer, textUpdate(text, 20 + index), index + 1)
      await room.whenDurable()
    }
    expect(store.compactions).toBe(0)
    room.applyUpdate(peer, textUpdate('c', 30), 3)
    await room.whenDurable()
    await new Promise((resolve) => setImmediate(resolve))
    expect(store.compactions).toBe(1)
    const stored = await store.memory.load('doc')
    expect(stored.updates).toEqual([])
    const doc = new Y.Doc()
    Y.applyUpdate(doc, stored.snapshot!)
    for (const update of stored.updates) Y.applyUpdate(doc, update)
    expect(doc.getText('t').length).toBe(3)
  })

  it('compacts its log into a snapshot on close', async () => {
    const store = new ControlledStore()
    const room = await Room.load('doc', settings(store))
    const peer = new RecordingPeer()
    room.join(peer)
    room.applyUpdate(peer, textUpdate('snap'), 1)
    room.leave(peer)
    await room.close()
    expect(store.compactions).toBe(1)
    const stored = await store.memory.load('doc')
    expect(stored.updates).toEqual([])
    const doc = new Y.Doc()
    Y.applyUpdate(doc, stored.snapshot!)
    expect(doc.getText('t').toString()).toBe('snap')
  })
})
