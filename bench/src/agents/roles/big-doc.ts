/**
 * Workload 14's agents: the writer fills a large text-heavy document; the reader syncs it with a
 * fresh Weft client, then leaves and comes back after edits on both sides (a reconnect).
 */
import { createClient, type DocHandle, type WeftClient } from '@weft/client'
import {
  decodeMessage,
  encodeMessage,
  MESSAGE_SPECS,
  PROTOCOL_VERSION,
  WEFT_SUBPROTOCOL,
} from '@weft/protocol'
import { WebSocket } from 'ws'
import * as Y from 'yjs'
import { deadline, nowMs } from '../../clock.js'
import { traceText } from '../../trace-data.js'
import { currentDoc } from './doc-session.js'
import type { Methods } from './methods.js'

/** Parameters of `bigdoc.write`. */
export interface WriteBigDocParams {
  /** Characters of text to write, in edits of at most `chunkChars`. */
  readonly chars: number
  readonly chunkChars: number
  readonly timeoutMs: number
}

/** Parameters of `bigdoc.sync`. */
export interface SyncBigDocParams {
  readonly url: string
  readonly name: string
  readonly timeoutMs: number
}

/** The reader's own client, kept between calls so that it can leave and come back. */
let reader: { client: WeftClient; handle: DocHandle } | null = null

/** `count` short edits at spread positions of the text `t` of `doc`, from `who`. */
const editSpread = (
  text: { length: number; insert(at: number, s: string): void },
  who: string,
  count: number,
): void => {
  for (let edit = 0; edit < count; edit++) {
    text.insert(Math.floor((text.length * edit) / count), `${who} ${edit} `)
  }
}

export const bigDocMethods: Methods = {
  /** Writes `chars` characters of the paper's text into `t`, and waits until all is saved. */
  'bigdoc.write': async (params) => {
    const { chars, chunkChars, timeoutMs } = params as WriteBigDocParams
    const bench = currentDoc()
    const paper = traceText(259_778)
    const text = bench.doc.getText('t')
    while (text.length < chars) {
      let chunk = ''
      while (chunk.length < Math.min(chunkChars, chars - text.length)) chunk += paper
      text.insert(text.length, chunk.slice(0, Math.min(chunkChars, chars - text.length)))
    }
    await deadline(bench.whenConfirmed(), timeoutMs, 'bigdoc.write: not saved')
    return { chars: text.length, docBytes: Y.encodeStateAsUpdate(bench.doc).length }
  },
  /** Ten edits by the writer, saved. */
  'bigdoc.edit': async (params) => {
    const { timeoutMs } = params as { timeoutMs: number }
    const bench = currentDoc()
    editSpread(bench.doc.getText('t'), 'writer', 10)
    await deadline(bench.whenConfirmed(), timeoutMs, 'bigdoc.edit: not saved')
    return null
  },
  /** Opens the document with a fresh client; resolves with the time to synced. */
  'bigdoc.sync': async (params) => {
    const { url, name, timeoutMs } = params as SyncBigDocParams
    await reader?.client.close()
    const client = createClient({ url, WebSocket, clientName: 'weft-bench', tabs: false })
    const startMs = nowMs()
    const handle = client.open(name)
    reader = { client, handle }
    await deadline(handle.whenSynced(), timeoutMs, 'bigdoc.sync: not synced')
    return { ms: nowMs() - startMs, chars: handle.doc.getText('t').length }
  },
  /** The reader leaves, and makes ten edits while away. */
  'bigdoc.leave': async () => {
    if (reader === null) throw new Error('bigdoc.sync first')
    reader.client.disconnect()
    editSpread(reader.handle.doc.getText('t'), 'reader', 10)
    return null
  },
  /** The reader comes back; resolves with the time until it is synced and its edits saved. */
  'bigdoc.return': async (params) => {
    const { timeoutMs } = params as { timeoutMs: number }
    if (reader === null) throw new Error('bigdoc.sync first')
    const startMs = nowMs()
    reader.client.connect()
    await deadline(reader.handle.whenSaved(), timeoutMs, 'bigdoc.return: not saved')
    await deadline(reader.handle.whenSynced(), timeoutMs, 'bigdoc.return: not synced')
    const ms = nowMs() - startMs
    const chars = reader.handle.doc.getText('t').length
    await reader.client.close()
    reader = null
    return { ms, chars }
  },
}

/** Parameters of `bigdoc.storm`. */
export interface StormParams {
  readonly url: string
  readonly name: string
  readonly joiners: number
  readonly timeoutMs: number
}

/**
 * `joiners` fresh clients open the document at once, each on its own socket speaking the Weft
 * protocol (version 2) directly: the time from opening its socket until the whole first sync
 * frame has arrived, per joiner, in ms, ascending. They keep nothing of it (a Y.Doc of 20 MB per
 * joiner would not fit one process): this measures the relay.
 */
const storm = async (params: StormParams): Promise<number[]> => {
  const { joiners, timeoutMs } = params
  const times = await deadline(
    Promise.all(Array.from({ length: joiners }, () => join(params))),
    timeoutMs,
    'bigdoc.storm: not every joiner got its sync',
  )
  return times.sort((a, b) => a - b)
}

/** Parameters of `bigdoc.sustained`. */
export interface SustainedParams {
  readonly url: string
  readonly name: string
  /** Joiners in flight at any time. */
  readonly concurrency: number
  readonly durationMs: number
}

/**
 * Fresh clients join one after another, `concurrency` at a time, for `durationMs`: how many
 * got their whole first sync, per second.
 */
const sustained = async (params: SustainedParams): Promise<number> => {
  const { concurrency, durationMs } = params
  const startMs = nowMs()
  let joined = 0
  const lane = async (): Promise<void> => {
    while (nowMs() - startMs < durationMs) {
      await join(params)
      joined += 1
    }
  }
  await Promise.all(Array.from({ length: concurrency }, lane))
  return (1000 * joined) / (nowMs() - startMs)
}

/** One fresh client on its own socket: ms from opening it until the whole first sync arrived. */
const join = (params: { readonly url: string; readonly name: string }): Promise<number> => {
  const { url, name } = params
  return new Promise((resolve, reject) => {
    const startMs = nowMs()
    const socket = new WebSocket(url, [WEFT_SUBPROTOCOL])
    socket.binaryType = 'nodebuffer'
    socket.on('error', reject)
    socket.on('open', () =>
      socket.send(
        encodeMessage({
          type: 'hello',
          minVersion: PROTOCOL_VERSION,
          maxVersion: PROTOCOL_VERSION,
          token: '',
          correlationId: 'storm',
          client: 'weft-bench-storm',
        }),
      ),
    )
    socket.on('message', (data: Buffer) => {
      const tag = data[0]
      if (tag === MESSAGE_SPECS.welcome.tag) {
        socket.send(encodeMessage({ type: 'open', doc: name, stateVector: Uint8Array.of(0) }))
      } else if (tag === MESSAGE_SPECS['sync-step-2'].tag || tag === MESSAGE_SPECS.compressed.tag) {
        resolve(nowMs() - startMs)
        socket.close()
      } else if (tag === MESSAGE_SPECS.chunk.tag) {
        // A sync over a chunk comes in pieces, each answered (which paces the relay); the last
        // piece completes it.
        const chunk = decodeMessage(data)
        if (chunk.type !== 'chunk') return
        const received = chunk.index + 1
        socket.send(encodeMessage({ type: 'resume', transfer: chunk.transfer, received }))
        if (received === chunk.count) {
          resolve(nowMs() - startMs)
          socket.close()
        }
      }
    })
  })
}

export const stormMethods: Methods = {
  'bigdoc.storm': async (params) => storm(params as StormParams),
  'bigdoc.sustained': async (params) => sustained(params as SustainedParams),
}
