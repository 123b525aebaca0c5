/**
 * The seeded convergence simulation: Weft clients and stock y-websocket clients edit one document
 * through the real relay (on LevelDB, in this process, or several relay processes on PostgreSQL
 * and Redis: sim-relays.ts) while a seeded scheduler decides every move: which queued frame goes
 * next, duplicates, reorders (relay → client), lost frames with their broken connection,
 * partitions, client restarts from their local stores and relay restarts. After each move the
 * scheduler waits until the system is quiet, so a seed replays exactly (on the one relay in this
 * process). At the end every partition heals and the run checks convergence.
 */
import { createHash } from 'node:crypto'
import {
  createClient,
  MemoryLocalStore,
  type DocHandle,
  type LocalStore,
  type WeftClient,
} from '@weft/client'
import { Awareness } from 'y-protocols/awareness'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { mulberry32 } from './fault-lane.js'
import { compareReplicas } from './sim-checks.js'
import {
  checkEdits,
  openSimModel,
  randomEdit,
  type EditRecord,
  type SimModel,
} from './sim-edits.js'
import { SimNetwork, type SimConnection, type SimNetworkCounters } from './sim-network.js'
import { clusterRelays, type ClusterRelaysOptions } from './sim-cluster-relays.js'
import { localRelay, type SimRelays } from './sim-relays.js'

/** Options of {@link runSimulation}. */
export interface SimulationOptions {
  readonly seed: number
  /** Scheduler moves before the final heal. Default 300. */
  readonly steps?: number
  /** Weft clients (restartable from their local stores). Default 3. */
  readonly weftClients?: number
  /** Stock y-websocket clients (`WebsocketProvider`). Default 1. */
  readonly yjsClients?: number
  /** Makes each Weft client's local store (kept across its restarts). Default: a memory store. */
  readonly localStore?: () => LocalStore
  /**
   * Run against relay processes on one PostgreSQL and one Redis (a relay restart is a SIGKILL of
   * a seeded relay) instead of one relay in this process on LevelDB. The moves still come from
   * the seed, but the relays' timing is their own: a seed no longer replays exactly.
   */
  readonly cluster?: ClusterRelaysOptions
  /** Steps whose move is a relay restart, whatever the roll (besides the seeded ones). Default none. */
  readonly relayRestartSteps?: readonly number[]
  /**
   * Before each of those restarts, heal the network until every client has an empty outbox, so
   * that the restart kills relays holding acknowledged edits (with partitions and cuts, a run
   * may otherwise see none acknowledged). Default false.
   */
  readonly healBeforeRelayRestart?: boolean
}

/** Faults and restarts the scheduler chose, by type. */
export interface SimulationFaults extends SimNetworkCounters {
  partitions: number
  clientRestarts: number
  relayRestarts: number
}

/** What one run did and found. An empty `failures` means every check passed. */
export interface SimulationResult {
  readonly seed: number
  /** Relays the clients were spread over. */
  readonly relays: number
  readonly steps: number
  readonly edits: number
  /** Edits whose Weft client had learned they were durable before the heal. */
  readonly acknowledged: number
  readonly faults: SimulationFaults
  /** Edits missing at the end (acknowledged or not). */
  readonly lost: number
  readonly lostAcknowledged: number
  /** Replicas (clients and the relay's stored copy) whose state differs from the first client. */
  readonly divergences: number
  readonly failures: readonly string[]
  /** From the start of the heal until every replica agreed (ms). */
  readonly convergeMs: number
  readonly durationMs: number
  /** A hash of every scheduler decision and the final state: equal for equal runs of a seed. */
  readonly traceHash: string
  /** Every scheduler decision, in order (`<step> <move> <connection>(<up>/<down> queued)`). */
  readonly trace: readonly string[]
}

interface Actor {
  readonly index: number
  readonly label: string
  readonly kind: 'weft' | 'yjs'
  doc: Y.Doc
  model: SimModel
  awareness: Awareness
  readonly edits: EditRecord[]
  serial: number
  client?: WeftClient
  handle?: DocHandle
  readonly store?: LocalStore
  provider?: WebsocketProvider
}

const DOC = 'simulated'
/** Long enough that no time-driven timer fires during a run: the scheduler owns time. */
const NEVER_MS = 1_000_000_000

/** Runs one seeded simulation; the relay and its data are gone afterwards. */
export const runSimulation = async (options: SimulationOptions): Promise<SimulationResult> => {
  const started = performance.now()
  const { seed, steps = 300, weftClients = 3, yjsClients = 1 } = options
  const localStore = options.localStore ?? (() => new MemoryLocalStore())
  const random = mulberry32(seed)
  const pick = <T>(list: readonly T[]): T | undefined =>
    list.length === 0 ? undefined : list[Math.floor(random() * list.length)]
  const chance = (p: number): boolean => random() < p
  const network = new SimNetwork()
  const trace: string[] = []
  const failures: string[] = []
  const faults = { partitions: 0, clientRestarts: 0, relayRestarts: 0 }
  let tick = 0
  const relays: SimRelays =
    options.cluster === undefined ? await localRelay() : await clusterRelays(options.cluster)
  const { url } = relays
  const nextClientId = (): number => 1 + Math.floor(random() * 0x7ffffffe)
  const socketClass = (client: number) =>
    network.socketClass(client, (asked, connection) => relays.route(asked, client, connection))

  const newDoc = (actor: {
    label: string
  }): { doc: Y.Doc; model: SimModel; awareness: Awareness } => {
    const doc = new Y.Doc({ guid: `${actor.label}-${tick}` })
    doc.clientID = nextClientId()
    const awareness = new Awareness(doc)
    awareness.setLocalState(null)
    return { doc, awareness, model: openSimModel(doc, actor.label, () => tick * 1000) }
  }

  const startWeft = (actor: Actor): void => {
    const { doc, model, awareness } = newDoc(actor)
    Object.assign(actor, { doc, model, awareness })
    const client = createClient({
      url,
      WebSocket: socketClass(actor.index) as never,
      store: actor.store as LocalStore,
      correlationId: actor.label,
      backoff: { initialMs: 1, maxMs: 1, slowRetryMs: 1, stableMs: NEVER_MS },
      random: () => 0,
      heartbeatIntervalMs: NEVER_MS,
      heartbeatTimeoutMs: NEVER_MS,
      connectTimeoutMs: NEVER_MS,
      repairAfterMs: NEVER_MS,
      ackTimeoutMs: NEVER_MS,
      compactAfterUpdates: 10,
      networkHints: null,
    })
    const handle = client.open(DOC, { doc, awareness })
    handle.on('reset', () =>
      failures.push(`${actor.label}: unexpected reset (an edit was refused)`),
    )
    actor.client = client
    actor.handle = handle
  }

  const startYjs = (actor: Actor): void => {
    actor.provider = new WebsocketProvider(url, DOC, actor.doc, {
      WebSocketPolyfill: socketClass(actor.index) as never,
      awareness: actor.awareness,
      maxBackoffTime: 0,
      disableBc: true,
    })
  }

  const actors: Actor[] = []
  for (let index = 0; index < weftClients + yjsClients; index++) {
    const kind = index < weftClients ? 'weft' : 'yjs'
    const label = kind === 'weft' ? `w${index}` : `y${index - weftClients}`
    const shell = { index, label, kind, edits: [], serial: 0 } as const
    const actor: Actor = {
      ...shell,
      ...newDoc(shell),
      edits: [],
      ...(kind === 'weft' ? { store: localStore() } : {}),
    }
    actors.push(actor)
    if (kind === 'weft') startWeft(actor)
    else startYjs(actor)
  }

  /** Waits until nothing moves: the relay is durable, its answers are queued, timers have run. */
  const settle = async (): Promise<void> => {
    for (let round = 0; round < 500; round++) {
      const before = network.activity
      await relays.whenIdle()
      await network.barrier()
      await new Promise((resolve) => setTimeout(resolve, 1))
      await relays.whenIdle()
      await network.barrier()
      if (network.activity === before) return
    }
    throw new Error(`seed ${seed}: the system did not settle`)
  }

  const acknowledge = (): void => {
    for (const actor of actors) {
      if (actor.handle?.pending !== 0) continue
      for (const edit of actor.edits) edit.acknowledged = true
    }
  }

  const describe = (connection: SimConnection): string => {
    const owner = actors[connection.client]?.label ?? '?'
    return `${owner}#${connection.id}(${connection.up.length}/${connection.down.length})`
  }

  const restartRelay = async (): Promise<string> => {
    const move = await relays.restart((count) => Math.floor(random() * count))
    faults.relayRestarts += 1
    return move
  }

  const restartClient = async (actor: Actor): Promise<void> => {
    await actor.client?.close()
    actor.awareness.destroy()
    startWeft(actor)
    faults.clientRestarts += 1
  }

  const step = async (): Promise<string> => {
    const roll = random()
    const queued = network.connections.flatMap((connection) => [
      ...(connection.up.length > 0 ? [{ connection, direction: 'up' as const }] : []),
      ...(connection.down.length > 0 ? [{ connection, direction: 'down' as const }] : []),
    ])
    if (roll < 0.55 && queued.length > 0) {
      const { connection, direction } = pick(queued) as (typeof queued)[number]
      const queue = connection[direction]
      const what = describe(connection)
      if (direction === 'down' && queue.length > 1 && chance(0.1)) {
        network.deliver(connection, direction, 1)
        return `reorder ${direction} ${what}`
      }
      if (queue[0]?.kind === 'frame' && chance(0.05)) {
        network.deliver(connection, direction, 0, true)
        return `duplicate ${direction} ${what}`
      }
      network.deliver(connection, direction)
      return `deliver ${direction} ${what}`
    }
    if (roll < 0.65) {
      const pending = network.connections.filter(
        (connection) =>
          connection.state === 'pending' && !network.partitioned.has(connection.client),
      )
      const connection = pick(pending)
      if (connection !== undefined) {
        await network.open(connection)
        return `open ${describe(connection)}`
      }
    }
    if (roll < 0.9) {
      const actor = pick(actors) as Actor
      const doc = actor.handle?.doc ?? actor.doc
      const edit = randomEdit(doc, actor.model, actor.label, actor.serial++, random)
      if (edit !== null) actor.edits.push(edit)
      return `edit ${actor.label} ${edit?.kind ?? 'none'}`
    }
    if (roll < 0.93) {
      const open = network.connections.filter((connection) => connection.state === 'open')
      const connection = pick(open)
      if (connection !== undefined) {
        const what = describe(connection)
        network.cut(connection)
        return `cut ${what}`
      }
    }
    if (roll < 0.965) {
      const actor = pick(actors) as Actor
      if (network.partitioned.has(actor.index)) {
        network.partitioned.delete(actor.index)
        return `heal ${actor.label}`
      }
      network.partitioned.add(actor.index)
      faults.partitions += 1
      for (const connection of [...network.connections])
        if (connection.client === actor.index) network.cut(connection)
      return `partition ${actor.label}`
    }
    if (roll < 0.98) {
      const actor = pick(actors.filter((each) => each.kind === 'weft'))
      if (actor !== undefined) {
        await restartClient(actor)
        return `restart ${actor.label}`
      }
    }
    if (roll < 0.986) {
      return restartRelay()
    }
    return 'wait'
  }

  /** Heals everything and delivers every frame in order until the replicas agree. */
  const heal = async (): Promise<boolean> => {
    network.partitioned.clear()
    for (let round = 0; round < 2_000; round++) {
      for (const connection of [...network.connections]) {
        if (connection.state === 'pending') await network.open(connection)
      }
      for (const connection of [...network.connections]) {
        while (connection.up.length > 0) network.deliver(connection, 'up')
        while (connection.down.length > 0) network.deliver(connection, 'down')
      }
      await settle()
      const quiet =
        network.connections.every(
          (connection) =>
            connection.state === 'open' && connection.up.length + connection.down.length === 0,
        ) &&
        actors.every((actor) =>
          actor.kind === 'weft'
            ? actor.handle?.synced === true && actor.handle.pending === 0
            : actor.provider?.synced === true,
        )
      if (quiet) return true
    }
    return false
  }

  let convergeMs = 0
  let divergences = 0
  let check: ReturnType<typeof checkEdits> = { missing: [], lostAcknowledged: 0 }
  const edits = (): EditRecord[] => actors.flatMap((actor) => actor.edits)
  let firstVector = ''
  let firstContent = ''
  try {
    await settle()
    for (tick = 1; tick <= steps; tick++) {
      const restart = options.relayRestartSteps?.includes(tick) === true
      if (restart && options.healBeforeRelayRestart === true) {
        if (!(await heal())) failures.push(`step ${tick}: no empty outboxes before the restart`)
        acknowledge()
      }
      const move = restart ? await restartRelay() : await step()
      await settle()
      acknowledge()
      trace.push(`${tick} ${move}`)
    }
    const healStarted = performance.now()
    if (!(await heal()))
      failures.push('the clients did not reach a synced, empty-outbox state after healing')
    convergeMs = Math.round(performance.now() - healStarted)
    const stored = await relays.stored(DOC)
    const replicas = [
      ...actors.map((actor) => ({ label: actor.label, doc: actor.handle?.doc ?? actor.doc })),
      { label: 'relay store', doc: stored },
    ]
    const first = replicas[0] as (typeof replicas)[number]
    const compared = compareReplicas(replicas)
    ;({ firstVector, firstContent, divergences } = compared)
    for (const failure of compared.failures) failures.push(failure)
    check = checkEdits(
      first.doc,
      openSimModel(first.doc, 'checker', () => 0),
      edits(),
    )
    for (const missing of check.missing.slice(0, 20)) failures.push(missing)
    for (const actor of actors) {
      if (actor.kind === 'weft' && actor.handle !== undefined && actor.handle.pending > 0)
        failures.push(`${actor.label}: ${actor.handle.pending} edits still in the outbox`)
    }
  } finally {
    for (const actor of actors) {
      actor.provider?.destroy()
      await actor.client?.close()
      actor.awareness.destroy()
    }
    await relays.close()
  }
  const traceHash = createHash('sha256')
    .update(trace.join('\n'))
    .update(firstVector)
    .update(firstContent)
    .digest('hex')
    .slice(0, 16)
  return {
    seed,
    relays: relays.count,
    steps,
    edits: edits().length,
    acknowledged: edits().filter((edit) => edit.acknowledged).length,
    faults: { ...network.counters, ...faults },
    lost: check.missing.length,
    lostAcknowledged: check.lostAcknowledged,
    divergences,
    failures,
    convergeMs,
    durationMs: Math.round(performance.now() - started),
    traceHash,
    trace,
  }
}
