/**
 * A device typing offline for days: the whole automerge-paper trace (259,778 keystrokes, one
 * transaction each) typed with no relay in reach, over the on-disk level store, with two restarts
 * of the app on the way, then brought online against the real relay. The outbox in memory and on
 * disk stays in proportion to the document (it is merged as it grows), every edit is saved, and
 * the reconnect sends about the document, not the keystrokes.
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LevelLocalStore } from '@weft/client/level'
import { applyTxn, loadTrace, startTestRelay, testClient, type TestRelay } from '@weft/testkit'
import { afterEach, describe, expect, it, onTestFinished } from 'vitest'
import * as Y from 'yjs'

const DOC = 'paper'
/** Keystrokes typed between two yields to the event loop (one local write each). */
const KEYSTROKES_PER_TICK = 500

let relay: TestRelay | null = null
afterEach(async () => {
  await relay?.close()
  relay = null
})

/** Bytes of every file under `dir`. */
const bytesOnDisk = async (dir: string): Promise<number> => {
  let total = 0
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true }))
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size
  return total
}

const nextTick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

interface SessionFigures {
  /** Most bytes the outbox held in memory at once. */
  peakOutboxBytes: number
  /** Outbox records stored at the end, and their bytes. */
  storedEntries: number
  storedOutboxBytes: number
  /** Bytes of the store's directory at the end. */
  diskBytes: number
}

describe('a device that types a whole paper offline, restarting twice, then reconnects', () => {
  it('keeps its outbox in proportion to the document and saves every edit', async () => {
    const started = performance.now()
    const trace = loadTrace('automerge-paper')
    const dir = await mkdtemp(join(tmpdir(), 'weft-long-offline-'))
    onTestFinished(() => rm(dir, { recursive: true, force: true }))
    const received = { bytes: 0 }
    relay = await startTestRelay({
      metrics: { frameIn: (bytes: number) => (received.bytes += bytes) },
    })

    /** Types `txns` offline in one run of the app; the app is closed afterwards. */
    const typeOffline = async (from: number, to: number): Promise<SessionFigures> => {
      const store = await LevelLocalStore.open({ location: dir })
      const client = testClient({ url: 'ws://127.0.0.1:9' }, { store, autoConnect: false })
      const handle = client.open(DOC)
      await handle.whenLoaded()
      expect(handle.pending).toBeGreaterThanOrEqual(from === 0 ? 0 : 1)
      const text = handle.doc.getText('t')
      let peakOutboxBytes = 0
      for (let index = from; index < to; index++) {
        applyTxn(text, (trace.txns[index] as (typeof trace.txns)[number]).patches)
        if ((index + 1) % KEYSTROKES_PER_TICK === 0) {
          peakOutboxBytes = Math.max(peakOutboxBytes, handle.outbox.pendingBytes)
          await nextTick()
        }
      }
      await handle.whenStored()
      const stored = (await store.load(DOC)).outbox
      await client.close()
      await store.close()
      return {
        peakOutboxBytes,
        storedEntries: stored.length,
        storedOutboxBytes: stored.reduce((sum, record) => sum + record.update.length, 0),
        diskBytes: await bytesOnDisk(dir),
      }
    }

    const total = trace.txns.length
    const thirds = [0, Math.floor(total / 3), Math.floor((2 * total) / 3), total]
    const sessions: SessionFigures[] = []
    for (let run = 0; run < 3; run++)
      sessions.push(await typeOffline(thirds[run] as number, thirds[run + 1] as number))
    const typedMs = performance.now() - started

    const store = await LevelLocalStore.open({ location: dir })
    onTestFinished(() => store.close())
    const client = testClient(relay, { store, autoConnect: false })
    const handle = client.open(DOC)
    await handle.whenLoaded()
    const restoredPending = handle.pending
    const documentBytes = Y.encodeStateAsUpdate(handle.doc).length
    expect(handle.doc.getText('t').toString()).toBe(trace.endContent)
    const before = received.bytes
    client.connect()
    await handle.whenSaved()
    const sentBytes = received.bytes - before
    expect(handle.pending).toBe(0)
    const reader = testClient(relay).open(DOC)
    await reader.whenSynced()
    expect(reader.doc.getText('t').toString()).toBe(trace.endContent)
    await handle.whenStored()
    expect((await store.load(DOC)).outbox).toEqual([])

    const peakOutboxBytes = Math.max(...sessions.map((each) => each.peakOutboxBytes))
    const storedOutboxBytes = Math.max(...sessions.map((each) => each.storedOutboxBytes))
    const diskBytes = Math.max(...sessions.map((each) => each.diskBytes))
    console.log(
      `automerge-paper typed offline (${total} edits, 2 restarts) in ${Math.round(typedMs)} ms, ` +
        `saved after reconnecting in ${Math.round(performance.now() - started - typedMs)} ms; ` +
        `document ${documentBytes} B encoded; outbox in memory at most ${peakOutboxBytes} B; ` +
        `stored outbox per restart: ${sessions.map((each) => `${each.storedEntries} entries, ${each.storedOutboxBytes} B`).join('; ')}; ` +
        `store directory at most ${diskBytes} B; ${restoredPending} pending after the last restart; ` +
        `${sentBytes} B sent on reconnecting`,
    )
    // Without merging the outbox holds every keystroke's update: 6.3 MB, 22 times the document.
    expect(peakOutboxBytes).toBeLessThan(3 * documentBytes)
    expect(storedOutboxBytes).toBeLessThan(3 * documentBytes)
    for (const session of sessions) expect(session.storedEntries).toBeLessThan(total / 20)
    // LevelDB keeps its write-ahead log (up to 4 MB) and superseded tables until it compacts:
    // about 24 times the document here, 59 without merging.
    expect(diskBytes).toBeLessThan(40 * documentBytes)
    expect(sentBytes).toBeLessThan(3 * documentBytes)
  }, 120_000)
})
