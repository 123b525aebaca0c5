/** The inside of the fault proxy: one lane per direction of a connection pair, and the pair. */
import { WebSocket } from 'ws'

/** A direction of traffic: `'up'` is client → relay, `'down'` is relay → client. */
export type FaultDirection = 'up' | 'down'

/** Counters for tests to assert on. Data frames only: pings, pongs and closes are not counted. */
export interface FaultProxyStats {
  /** Client connections accepted (upstream opened, upgrade completed). */
  readonly connections: number
  /** Upgrades rejected with 503 while `refuse(true)`. */
  readonly refused: number
  /** Connection pairs dropped by `cutAll` or `cutRandomly`. */
  readonly cuts: number
  readonly forwarded: Readonly<Record<FaultDirection, number>>
  /** Lost with a cut or closed connection (queued, stalled, or sent towards a closed side). */
  readonly dropped: Readonly<Record<FaultDirection, number>>
  /** Frames sent twice. */
  readonly duplicated: number
  /** Adjacent swaps performed. */
  readonly reordered: number
}

export type Counters = {
  -readonly [K in keyof FaultProxyStats]: FaultProxyStats[K] extends number
    ? number
    : Record<FaultDirection, number>
}

export interface Faults {
  delay: { minMs: number; maxMs: number }
  duplicate: number
  reorder: number
  cut: number
}

/** What every lane of one proxy shares: the current faults and the counters. */
export interface Shared {
  readonly faults: Record<FaultDirection, Faults>
  blackHoled: boolean
  readonly counters: Counters
  readonly reorderHoldMs: number
  readonly changed: () => void
}

export type Entry =
  | { kind: 'message'; data: Buffer; isBinary: boolean; twice: boolean; holdBack: boolean }
  | { kind: 'ping' | 'pong'; data: Buffer }
  | { kind: 'close'; code: number; reason: Buffer }
export type Message = Extract<Entry, { kind: 'message' }>
export type Queued = Entry & { readyAtMs: number }

/** A small seeded PRNG (mulberry32): uniform in [0, 1), any uint32 seed including 0. */
export const mulberry32 = (seed: number): (() => number) => {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export const isSendableCloseCode = (code: number): boolean =>
  (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) ||
  (code >= 3000 && code <= 4999)

/** Closes `socket` so that its peer sees `code`: 1005 as an empty close frame, 1006 as a reset. */
export const closeLike = (socket: WebSocket, code: number, reason: Buffer): void => {
  if (code === 1005) socket.close()
  else if (code === 1006) socket.terminate()
  else if (isSendableCloseCode(code)) socket.close(code, reason)
  else socket.close(1011)
}

/** One direction of one connection pair: fault decisions, the in-order delay queue, the swap. */
export class Lane {
  readonly #direction: FaultDirection
  readonly #to: WebSocket
  readonly #shared: Shared
  readonly #cut: () => void
  /** Decisions on data frames; a separate stream from the delays so pings cannot shift them. */
  readonly #decide: () => number
  readonly #jitter: () => number
  readonly #queue: Queued[] = []
  #held: Message | null = null
  #pumpTimer: NodeJS.Timeout | undefined
  #holdTimer: NodeJS.Timeout | undefined

  constructor(
    direction: FaultDirection,
    to: WebSocket,
    seeds: readonly [number, number],
    shared: Shared,
    cut: () => void,
  ) {
    this.#direction = direction
    this.#to = to
    this.#shared = shared
    this.#cut = cut
    this.#decide = mulberry32(seeds[0])
    this.#jitter = mulberry32(seeds[1])
  }

  /** A data frame arrived from the sending side. */
  message(data: Buffer, isBinary: boolean): void {
    const faults = this.#shared.faults[this.#direction]
    if (this.#chance(faults.cut)) {
      this.#drop(1)
      return this.#cut()
    }
    const twice = this.#chance(faults.duplicate)
    const holdBack = this.#chance(faults.reorder)
    this.#enqueue({ kind: 'message', data, isBinary, twice, holdBack })
  }

  /** A ping, pong or close arrived from the sending side; the black hole stalls it too. */
  control(entry: Exclude<Entry, Message>): void {
    this.#enqueue(entry)
  }

  /** Discards everything queued or held (the pair was cut or has ended) and stops the timers. */
  clear(): void {
    clearTimeout(this.#pumpTimer)
    clearTimeout(this.#holdTimer)
    const lost = this.#queue.filter((entry) => entry.kind === 'message').length
    this.#queue.length = 0
    this.#drop(lost + (this.#held === null ? 0 : 1))
    this.#held = null
  }

  #chance(probability: number): boolean {
    return probability > 0 && this.#decide() < probability
  }

  #enqueue(entry: Entry): void {
    // A frame is coming, so a held frame will swap with it rather than go alone.
    clearTimeout(this.#holdTimer)
    this.#holdTimer = undefined
    const { minMs, maxMs } = this.#shared.faults[this.#direction].delay
    const delayMs = maxMs === 0 ? 0 : minMs + this.#jitter() * (maxMs - minMs)
    this.#queue.push({ ...entry, readyAtMs: performance.now() + delayMs })
    this.#pump()
  }

  /**
   * Delivers the ready head of the queue, in order; a later frame waits for every earlier one.
   * Nothing moves while the black hole is on (`resume` pumps again when it is off).
   */
  readonly #pump = (): void => {
    clearTimeout(this.#pumpTimer)
    this.#pumpTimer = undefined
    if (this.#shared.blackHoled) return
    let head = this.#queue[0]
    while (head !== undefined && head.readyAtMs <= performance.now()) {
      this.#queue.shift()
      this.#deliver(head)
      head = this.#queue[0]
    }
    if (head !== undefined) {
      const waitMs = Math.max(1, Math.ceil(head.readyAtMs - performance.now()))
      this.#pumpTimer = setTimeout(this.#pump, waitMs).unref()
    } else if (this.#held !== null && this.#holdTimer === undefined) {
      this.#holdTimer = setTimeout(() => this.#flushHeld(), this.#shared.reorderHoldMs).unref()
    }
  }

  #deliver(entry: Entry): void {
    if (entry.kind !== 'message') {
      if (entry.kind === 'close') this.#flushHeld()
      return this.#sendControl(entry)
    }
    const held = this.#held
    if (held !== null) {
      this.#held = null
      this.#send(entry)
      this.#send(held)
      this.#shared.counters.reordered++
      this.#shared.changed()
    } else if (entry.holdBack) this.#held = entry
    else this.#send(entry)
  }

  #flushHeld(): void {
    clearTimeout(this.#holdTimer)
    this.#holdTimer = undefined
    const held = this.#held
    this.#held = null
    if (held !== null) this.#send(held)
  }

  /** Delivers what the black hole stalled. */
  resume(): void {
    this.#pump()
  }

  #send(message: Message): void {
    if (this.#to.readyState !== WebSocket.OPEN) return this.#drop(1)
    const options = { binary: message.isBinary }
    this.#to.send(message.data, options)
    if (message.twice) this.#to.send(message.data, options)
    const { counters } = this.#shared
    counters.forwarded[this.#direction]++
    if (message.twice) counters.duplicated++
    this.#shared.changed()
  }

  #sendControl(entry: Exclude<Entry, Message>): void {
    if (entry.kind === 'close') return closeLike(this.#to, entry.code, entry.reason)
    if (this.#to.readyState !== WebSocket.OPEN) return
    if (entry.kind === 'ping') this.#to.ping(entry.data)
    else this.#to.pong(entry.data)
  }

  #drop(count: number): void {
    if (count === 0) return
    this.#shared.counters.dropped[this.#direction] += count
    this.#shared.changed()
  }
}

/** A client socket and its upstream socket, joined by one lane each way. */
export class Pair {
  readonly #client: WebSocket
  readonly #upstream: WebSocket
  readonly #lanes: readonly [Lane, Lane]
  readonly #shared: Shared
  #openSockets = 2
  #severed = false
  /** True once either side closed or the pair was cut: it no longer counts as open. */
  ending = false

  constructor(
    client: WebSocket,
    upstream: WebSocket,
    seeds: readonly [number, number, number, number],
    shared: Shared,
    onEnd: () => void,
  ) {
    this.#client = client
    this.#upstream = upstream
    this.#shared = shared
    const [a, b, c, d] = seeds
    const cut = (): void => this.cut()
    const up = new Lane('up', upstream, [a, b], shared, cut)
    const down = new Lane('down', client, [c, d], shared, cut)
    this.#lanes = [up, down]
    for (const [from, lane] of [
      [client, up],
      [upstream, down],
    ] as const) {
      from.on('error', () => {
        // The close event that follows reports the outcome.
      })
      from.on('message', (data, isBinary) => lane.message(data as Buffer, isBinary))
      from.on('ping', (data) => lane.control({ kind: 'ping', data }))
      from.on('pong', (data) => lane.control({ kind: 'pong', data }))
      from.on('close', (code, reason) => {
        this.ending = true
        if (!this.#severed) lane.control({ kind: 'close', code, reason })
        if (--this.#openSockets > 0) return
        for (const each of this.#lanes) each.clear()
        onEnd()
      })
    }
  }

  /** Drops both sides, counted as a cut: a TCP reset, or a close with `code` when given. */
  cut(code?: number): void {
    if (this.#severed) return
    this.#shared.counters.cuts++
    this.#sever(code)
    this.#shared.changed()
  }

  /** Delivers what the black hole stalled, in order. */
  resume(): void {
    for (const lane of this.#lanes) lane.resume()
  }

  /** Terminates both sides without counting a cut (the proxy is closing). */
  destroy(): void {
    this.#sever(undefined)
  }

  #sever(code: number | undefined): void {
    this.#severed = true
    this.ending = true
    for (const lane of this.#lanes) lane.clear()
    for (const socket of [this.#client, this.#upstream])
      if (code === undefined) socket.terminate()
      else socket.close(code)
  }
}
