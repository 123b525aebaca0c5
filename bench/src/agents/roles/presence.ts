/**
 * Presence clients: many clients in this process, each on one of several documents, renewing
 * their awareness state on a staggered schedule; each counts the awareness frames it receives
 * and those that name its own client id (echoes), and at the end reads its view of the others.
 */
import { deadline, delay, nowMs } from '../../clock.js'
import { ownCpuMs } from '../../proc-metrics.js'
import type { ClientKind } from '../../systems.js'
import { awarenessClientIds } from '../awareness-frames.js'
import type { BenchDoc } from '../bench-doc.js'
import { openDoc } from '../open-doc.js'
import type { Methods } from './methods.js'

/** One presence client: its global index and the document it is on. */
export interface PresenceClient {
  readonly index: number
  readonly doc: number
}

/** Parameters of `presence.open`. */
export interface PresenceOpenParams {
  readonly kind: ClientKind
  readonly url: string
  readonly clients: readonly PresenceClient[]
  /** Clients being opened at once. */
  readonly concurrency: number
  readonly perClientTimeoutMs: number
}

/** Parameters of `presence.run`. */
export interface PresenceRunParams {
  /** When the window opens (shared clock); client c renews at startAt + (c/total + k) × interval. */
  readonly startAt: number
  readonly windowMs: number
  readonly intervalMs: number
  readonly totalClients: number
  /** Other clients on each client's document, whose states its view should hold at the end. */
  readonly othersPerClient: number
  /** How long after the window to wait for every view to be complete. */
  readonly drainMs: number
}

/** What `presence.run` reports for this agent's clients (sums over them). */
export interface PresenceRunResult {
  readonly clients: number
  readonly renewals: number
  /** Awareness frames naming at least one client, and the entries they carried, in the window. */
  readonly windowFrames: number
  readonly windowEntries: number
  /** Frames that named the receiving client's own id, from open to the end of the drain. */
  readonly echoes: number
  /** Clients that received their own state back at least once. */
  readonly echoedClients: number
  /** (client, other client of its document) pairs whose state the client holds at the end… */
  readonly present: number
  /** …and those holding the other's last renewal. */
  readonly latest: number
  /** Pairs expected: clients × othersPerClient. */
  readonly expected: number
  /** When every view was complete (shared clock), or null if not within the drain. */
  readonly completeAt: number | null
  readonly cpuMs: number
}

/** The state each client announces; `seq` counts its renewals. */
interface PresenceState {
  readonly user: { readonly name: string; readonly color: string }
  readonly index: number
  readonly doc: number
  readonly seq: number
  readonly cursor: { readonly anchor: number; readonly head: number }
}

interface Member {
  readonly client: PresenceClient
  readonly bench: BenchDoc
  frames: number
  entries: number
  echoes: number
}

const members: Member[] = []

/** Documents are `presence-<n>`. */
const presenceDocName = (doc: number): string => `presence-${doc}`

const stateOf = (client: PresenceClient, seq: number): PresenceState => {
  // A cursor that moves with every renewal, somewhere in a document of a few thousand characters.
  const head = (client.index * 131 + seq * 17) % 4000
  return {
    user: {
      name: `client ${client.index}`,
      color: `#${((client.index * 2_654_435_761) % 0xffffff).toString(16).padStart(6, '0')}`,
    },
    index: client.index,
    doc: client.doc,
    seq,
    cursor: { anchor: head, head },
  }
}

const openOne = async (params: PresenceOpenParams, client: PresenceClient): Promise<void> => {
  const bench = openDoc(params.kind, params.url, presenceDocName(client.doc))
  const member: Member = { client, bench, frames: 0, entries: 0, echoes: 0 }
  members.push(member)
  bench.onFrame((frame) => {
    const ids = awarenessClientIds(params.kind, frame)
    if (ids === null || ids.length === 0) return
    member.frames++
    member.entries += ids.length
    if (ids.includes(bench.awareness.clientID)) member.echoes++
  })
  await deadline(bench.whenSynced(), params.perClientTimeoutMs, `client ${client.index} sync`)
  bench.awareness.setLocalState(stateOf(client, 0))
}

const open = async (params: PresenceOpenParams): Promise<{ startAt: number; doneAt: number }> => {
  const startAt = nowMs()
  let next = 0
  const lane = async (): Promise<void> => {
    while (next < params.clients.length) await openOne(params, params.clients[next++]!)
  }
  await Promise.all(Array.from({ length: params.concurrency }, lane))
  return { startAt, doneAt: nowMs() }
}

/** What one client's view holds of the other clients of its document. */
const viewOf = (member: Member, lastSeq: number): { present: number; latest: number } => {
  let present = 0
  let latest = 0
  for (const state of member.bench.awareness.getStates().values()) {
    const other = state as Partial<PresenceState>
    if (other.doc !== member.client.doc || other.index === member.client.index) continue
    present++
    if (other.seq === lastSeq) latest++
  }
  return { present, latest }
}

const counted = (): { frames: number; entries: number } =>
  members.reduce(
    (sum, member) => ({
      frames: sum.frames + member.frames,
      entries: sum.entries + member.entries,
    }),
    { frames: 0, entries: 0 },
  )

const run = async (params: PresenceRunParams): Promise<PresenceRunResult> => {
  const renewalsEach = Math.floor(params.windowMs / params.intervalMs)
  const schedule = members
    .flatMap((member) =>
      Array.from({ length: renewalsEach }, (_, k) => ({
        member,
        seq: k + 1,
        due: params.startAt + (member.client.index / params.totalClients + k) * params.intervalMs,
      })),
    )
    .sort((a, b) => a.due - b.due)
  const endAt = params.startAt + params.windowMs
  await delay(params.startAt - nowMs())
  const cpuBefore = ownCpuMs()
  const atStart = counted()
  let atEnd = atStart
  const windowClosed = delay(endAt - nowMs()).then(() => (atEnd = counted()))
  let renewals = 0
  for (const { member, seq, due } of schedule) {
    const wait = due - nowMs()
    if (wait > 0) await delay(wait)
    member.bench.awareness.setLocalState(stateOf(member.client, seq))
    renewals++
  }
  await windowClosed
  // Stragglers: wait until every view holds every other client's last renewal, or the drain ends.
  const expected = members.length * params.othersPerClient
  let completeAt: number | null = null
  const drainUntil = endAt + params.drainMs
  for (;;) {
    const latest = members.reduce((sum, member) => sum + viewOf(member, renewalsEach).latest, 0)
    if (latest === expected) {
      completeAt = nowMs()
      break
    }
    if (nowMs() >= drainUntil) break
    await delay(50)
  }
  const views = members.map((member) => viewOf(member, renewalsEach))
  return {
    clients: members.length,
    renewals,
    windowFrames: atEnd.frames - atStart.frames,
    windowEntries: atEnd.entries - atStart.entries,
    echoes: members.reduce((sum, member) => sum + member.echoes, 0),
    echoedClients: members.filter((member) => member.echoes > 0).length,
    present: views.reduce((sum, view) => sum + view.present, 0),
    latest: views.reduce((sum, view) => sum + view.latest, 0),
    expected,
    completeAt,
    cpuMs: ownCpuMs() - cpuBefore,
  }
}

export const presenceMethods: Methods = {
  /** Opens this agent's clients, each announcing its state once synced. */
  'presence.open': (params) => open(params as PresenceOpenParams),
  'presence.run': (params) => run(params as PresenceRunParams),
  'presence.close': async () => {
    await Promise.all(members.splice(0).map((member) => member.bench.close()))
    return null
  },
}
