/**
 * Workload 15's agents: the app (one Weft client, many documents) goes to the background and
 * comes back to the foreground; the peer (another device) seeds the documents and edits them
 * while the app is away.
 */
import { createClient, type DocHandle, type SyncStatus, type WeftClient } from '@weft/client'
import * as Y from 'yjs'
import { deadline, nowMs } from '../../clock.js'
import { ProxiedWebSocket } from '../bench-doc.js'
import { TEXT_NAME } from '../open-doc.js'
import type { Methods } from './methods.js'
import { applyPatch, loadedPatches, loadedText } from './trace-store.js'

/** Parameters of `lifecycle.open`. */
export interface OpenDocsParams {
  readonly url: string
  readonly names: readonly string[]
  /** How long the socket stays open after `setLifecycle('background')` (the app's client). */
  readonly backgroundKeepAliveMs?: number
  /** Write the loaded trace into every document and wait until it is saved (the peer). */
  readonly seed: boolean
  readonly timeoutMs: number
}

/** Parameters of `lifecycle.background` and `lifecycle.remote`: which documents get an edit. */
export interface EditParams {
  readonly indices: readonly number[]
  readonly cycle: number
  readonly timeoutMs: number
}

/** A peer's edit, as the app must receive it: its Yjs client and its clock after the edit. */
export interface RemoteEdit {
  readonly index: number
  readonly client: number
  readonly clock: number
}

/** Parameters of `lifecycle.foreground`. */
export interface ForegroundParams {
  readonly remote: readonly RemoteEdit[]
  readonly timeoutMs: number
}

/** One return to the foreground, in ms from `setLifecycle('foreground')`. */
export interface ForegroundResult {
  /** The connection was accepted (`welcome`: status `syncing` or `synced`). */
  readonly connectedMs: number
  /** Every document synced. */
  readonly syncedMs: number
  /** Every edit made in the background saved. */
  readonly savedMs: number
  /** Every edit of the peer received. */
  readonly receivedMs: number
  /** All of it. */
  readonly doneMs: number
  /** Edits waiting in the outbox when the app came back (all documents). */
  readonly pending: number
}

/** This agent's client and its documents, kept between calls. */
let device: { readonly client: WeftClient; readonly handles: readonly DocHandle[] } | null = null

const current = (): NonNullable<typeof device> => {
  if (device === null) throw new Error('lifecycle.open first')
  return device
}

/** The loaded trace as one update, checked against its expected text. */
const traceUpdate = (): Uint8Array => {
  const doc = new Y.Doc()
  const text = doc.getText(TEXT_NAME)
  for (const patch of loadedPatches()) applyPatch(text, patch)
  if (text.toString() !== loadedText()) throw new Error('the replayed trace is not its text')
  return Y.encodeStateAsUpdate(doc)
}

/** A word typed one character per transaction into the text of `handle`, as a person types. */
const typeWord = (handle: DocHandle, word: string, cycle: number): void => {
  const text = handle.doc.getText(TEXT_NAME)
  const at = Math.floor((text.length * ((cycle * 7) % 10)) / 10)
  for (let offset = 0; offset < word.length; offset++) text.insert(at + offset, word[offset]!)
}

/** Resolves once `client`'s status is `state` (at once if it is already). */
const untilStatus = (client: WeftClient, state: SyncStatus['state']): Promise<void> =>
  new Promise((resolve) => {
    const check = (): void => {
      if (client.status.state !== state) return
      client.off('status', check)
      resolve()
    }
    client.on('status', check)
    check()
  })

/** Resolves once `doc` has the edits of Yjs client `client` up to `clock`. */
const untilReceived = (doc: Y.Doc, client: number, clock: number): Promise<void> =>
  new Promise((resolve) => {
    const check = (): void => {
      if (Y.getState(doc.store, client) < clock) return
      doc.off('update', check)
      resolve()
    }
    doc.on('update', check)
    check()
  })

/** Resolves with the ms from `startMs` until every promise of `waits` has resolved. */
const allAfter = async (startMs: number, waits: ReadonlyArray<Promise<void>>): Promise<number> => {
  await Promise.all(waits)
  return nowMs() - startMs
}

const foreground = async (params: ForegroundParams): Promise<ForegroundResult> => {
  const { client, handles } = current()
  const docOf = (edit: RemoteEdit): Y.Doc => handles[edit.index]!.doc
  if (params.remote.some((edit) => Y.getState(docOf(edit).store, edit.client) >= edit.clock))
    throw new Error('lifecycle.foreground: a peer edit arrived in the background')
  const pending = handles.reduce((sum, handle) => sum + handle.pending, 0)
  const startMs = nowMs()
  let connectedMs = Number.NaN
  const connected = (status: SyncStatus): void => {
    if (status.state === 'syncing' || status.state === 'synced') {
      connectedMs = nowMs() - startMs
      client.off('status', connected)
    }
  }
  client.on('status', connected)
  client.setLifecycle('foreground')
  const [syncedMs, savedMs, receivedMs] = await deadline(
    Promise.all([
      allAfter(
        startMs,
        handles.map((handle) => handle.whenSynced()),
      ),
      allAfter(
        startMs,
        handles.map((handle) => handle.whenSaved()),
      ),
      allAfter(
        startMs,
        params.remote.map((edit) => untilReceived(docOf(edit), edit.client, edit.clock)),
      ),
    ]),
    params.timeoutMs,
    'lifecycle.foreground: not synced, saved and up to date',
  )
  client.off('status', connected)
  const doneMs = Math.max(syncedMs, savedMs, receivedMs)
  return { connectedMs, syncedMs, savedMs, receivedMs, doneMs, pending }
}

export const lifecycleMethods: Methods = {
  /**
   * Opens every document with one fresh client (one socket) and waits until all are synced; the
   * peer (`seed`) then writes the trace into each and waits until it is saved.
   */
  'lifecycle.open': async (params) => {
    const { url, names, backgroundKeepAliveMs, seed, timeoutMs } = params as OpenDocsParams
    await device?.client.close()
    const client = createClient({
      url,
      WebSocket: ProxiedWebSocket,
      clientName: 'weft-bench',
      tabs: false,
      ...(backgroundKeepAliveMs === undefined ? {} : { backgroundKeepAliveMs }),
    })
    const startMs = nowMs()
    const handles = names.map((name) => client.open(name))
    device = { client, handles }
    const synced = Promise.all(handles.map((handle) => handle.whenSynced()))
    await deadline(synced, timeoutMs, 'lifecycle.open: not synced')
    const ms = nowMs() - startMs
    if (seed) {
      const update = traceUpdate()
      for (const handle of handles) Y.applyUpdate(handle.doc, update)
      const saved = Promise.all(handles.map((handle) => handle.whenSaved()))
      await deadline(saved, timeoutMs, 'lifecycle.open: the seed was not saved')
    }
    const doc = handles[0]!.doc
    return { ms, docBytes: Y.encodeStateAsUpdate(doc).length, chars: doc.getText(TEXT_NAME).length }
  },
  /**
   * The app goes to the background; once its socket has closed, a word is typed into each
   * document of `indices`. Resolves with the ms from `setLifecycle('background')` to offline.
   */
  'lifecycle.background': async (params) => {
    const { indices, cycle, timeoutMs } = params as EditParams
    const { client, handles } = current()
    const startMs = nowMs()
    client.setLifecycle('background')
    await deadline(untilStatus(client, 'offline'), timeoutMs, 'lifecycle.background: still open')
    const ms = nowMs() - startMs
    if (handles.some((handle) => handle.synced))
      throw new Error('lifecycle.background: a document is still synced while offline')
    for (const index of indices) typeWord(handles[index]!, ` app${cycle}`, cycle)
    return ms
  },
  /** The peer types a word into each document of `indices` and waits until they are saved. */
  'lifecycle.remote': async (params): Promise<RemoteEdit[]> => {
    const { indices, cycle, timeoutMs } = params as EditParams
    const { handles } = current()
    for (const index of indices) typeWord(handles[index]!, ` peer${cycle}`, cycle + 5)
    const saved = Promise.all(indices.map((index) => handles[index]!.whenSaved()))
    await deadline(saved, timeoutMs, 'lifecycle.remote: not saved')
    return indices.map((index) => {
      const doc = handles[index]!.doc
      return { index, client: doc.clientID, clock: Y.getState(doc.store, doc.clientID) }
    })
  },
  /** The app comes back to the foreground: how long until it is synced and up to date. */
  'lifecycle.foreground': async (params) => foreground(params as ForegroundParams),
}
