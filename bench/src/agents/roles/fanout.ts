/**
 * Fan-out clients: several clients of one document in this process, each inserting small
 * fixed-width tokens on a schedule and recording when every other client's tokens arrive.
 *
 * Arrivals are read from each remote transaction's before/after state vectors, not from text
 * deltas (a Y.Text delta walks the whole text, which would make the harness the bottleneck):
 * every edit is one insertion of a token of `tokenChars` characters, so the s-th edit of a
 * client ends at Yjs clock (s + 1) × tokenChars of that client.
 */
import type * as Y from 'yjs'
import { deadline, nowMs } from '../../clock.js'
import { ownCpuMs } from '../../proc-metrics.js'
import type { ClientKind } from '../../systems.js'
import type { BenchDoc } from '../bench-doc.js'
import { openDoc, TEXT_NAME } from '../open-doc.js'
import type { Methods } from './methods.js'

/** Parameters of `fanout.open`. */
export interface FanoutOpenParams {
  readonly kind: ClientKind
  /** The server each client connects to, one per entry of `clients`. */
  readonly urls: readonly string[]
  readonly name: string
  /** Global indices of this agent's clients (0 … totalClients-1). */
  readonly clients: readonly number[]
  readonly totalClients: number
  readonly editsPerClient: number
  readonly timeoutMs: number
}

/** Parameters of `fanout.run`. */
export interface FanoutRunParams {
  /** When client 0 sends its first edit (shared clock); client c starts c/total intervals later. */
  readonly startAt: number
  readonly intervalMs: number
  /** How long after the last scheduled edit to wait for stragglers. */
  readonly drainMs: number
  readonly seed: number
  /** Yjs client id → global client index, for every client of every agent. */
  readonly clientIndex: ReadonlyMap<number, number>
}

/** Send times of this agent's edits and arrival times at each of its clients (NaN: not seen). */
export interface FanoutRunResult {
  readonly clients: readonly number[]
  /** Indexed by edit id `c * editsPerClient + s`; NaN for edits of other agents' clients. */
  readonly sentAt: Float64Array
  /** One array per client of this agent, indexed by edit id. */
  readonly arrivedAt: readonly Float64Array[]
  readonly cpuMs: number
}

interface Session {
  readonly params: FanoutOpenParams
  readonly docs: BenchDoc[]
  readonly arrivedAt: Float64Array[]
  readonly received: number[]
  readonly tokenChars: number
  clientIndex: ReadonlyMap<number, number>
}

let session: Session | null = null

/** The token of edit `s` of client `c`: `[cc:ssss]`, the same width for every edit. */
const token = (setup: FanoutOpenParams, c: number, s: number): string =>
  `[${String(c).padStart(String(setup.totalClients - 1).length, '0')}:` +
  `${String(s).padStart(String(setup.editsPerClient - 1).length, '0')}]`

const recordArrivals = (current: Session, slot: number, transaction: Y.Transaction): void => {
  if (transaction.local) return
  const at = nowMs()
  const { editsPerClient } = current.params
  const arrived = current.arrivedAt[slot]!
  transaction.afterState.forEach((after, clientId) => {
    const before = transaction.beforeState.get(clientId) ?? 0
    if (after === before) return
    const c = current.clientIndex.get(clientId)
    if (c === undefined) return
    const first = Math.floor(before / current.tokenChars)
    const last = Math.min(editsPerClient, Math.floor(after / current.tokenChars))
    for (let s = first; s < last; s++) {
      const id = c * editsPerClient + s
      if (!Number.isNaN(arrived[id]!)) continue
      arrived[id] = at
      current.received[slot]!++
    }
  })
}

const open = async (params: FanoutOpenParams): Promise<number[]> => {
  const totalEdits = params.totalClients * params.editsPerClient
  const docs = params.urls.map((url) => openDoc(params.kind, url, params.name))
  const current: Session = {
    params,
    docs,
    arrivedAt: docs.map(() => new Float64Array(totalEdits).fill(Number.NaN)),
    received: docs.map(() => 0),
    tokenChars: token(params, 0, 0).length,
    clientIndex: new Map(),
  }
  docs.forEach((bench, slot) => {
    bench.doc.on('afterTransaction', (transaction: Y.Transaction) =>
      recordArrivals(current, slot, transaction),
    )
  })
  await deadline(
    Promise.all(docs.map((bench) => bench.whenSynced())),
    params.timeoutMs,
    'fan-out clients did not sync',
  )
  session = current
  return docs.map((bench) => bench.doc.clientID)
}

/** A small seeded PRNG (mulberry32), so insertion points repeat from run to run. */
const seeded = (seed: number): (() => number) => {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const run = async (params: FanoutRunParams): Promise<FanoutRunResult> => {
  if (session === null) throw new Error('call fanout.open first')
  const current = session
  const { params: setup, docs, arrivedAt, received } = current
  current.clientIndex = params.clientIndex
  const random = seeded(params.seed + setup.clients[0]!)
  const sentAt = new Float64Array(setup.totalClients * setup.editsPerClient).fill(Number.NaN)
  const schedule = setup.clients
    .flatMap((c, slot) =>
      Array.from({ length: setup.editsPerClient }, (_, s) => ({
        c,
        s,
        slot,
        due: params.startAt + (c / setup.totalClients + s) * params.intervalMs,
      })),
    )
    .sort((a, b) => a.due - b.due)
  const cpuBefore = ownCpuMs()
  for (const edit of schedule) {
    const wait = edit.due - nowMs()
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
    const text = docs[edit.slot]!.doc.getText(TEXT_NAME)
    // A random token boundary: the text is always whole tokens, so no token is ever split and
    // concurrent insertions rarely meet at the same position (as in real editing).
    const tokens = Math.floor(text.length / current.tokenChars)
    const position = current.tokenChars * Math.floor(random() * (tokens + 1))
    sentAt[edit.c * setup.editsPerClient + edit.s] = nowMs()
    text.insert(position, token(setup, edit.c, edit.s))
  }
  const expected = (setup.totalClients - 1) * setup.editsPerClient
  const lastDue = schedule[schedule.length - 1]?.due ?? nowMs()
  while (received.some((count) => count < expected) && nowMs() < lastDue + params.drainMs) {
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return { clients: setup.clients, sentAt, arrivedAt, cpuMs: ownCpuMs() - cpuBefore }
}

export const fanoutMethods: Methods = {
  /** Opens this agent's clients; resolves with their Yjs client ids once all are synced. */
  'fanout.open': (params) => open(params as FanoutOpenParams),
  'fanout.run': (params) => run(params as FanoutRunParams),
  'fanout.close': async () => {
    await Promise.all(session?.docs.map((bench) => bench.close()) ?? [])
    session = null
    return null
  },
}
