/**
 * Memory reclaim: one full garbage collection once many documents have unloaded, so that a relay
 * that went quiet after a busy spell gives its memory back instead of holding the garbage of
 * every unloaded document until its next burst of work.
 */
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

/** What the reclaimer reads and does; the relay app passes the real ones. */
export interface ReclaimSettings {
  /** Documents loaded now. */
  readonly rooms: () => number
  /** Runs a full garbage collection. */
  readonly collect: () => void
  /** Collect once at least this many documents unloaded since the last collection… */
  readonly minUnloaded: number
  /** …and at most this fraction of the high-water mark is still loaded. */
  readonly maxRemainingFraction: number
  /** Told after each collection, with the heap before and after. */
  readonly collected?: (heapUsedBefore: number, heapUsedAfter: number) => void
}

/**
 * Decides when to collect. V8 collects when a process allocates, so a process that stops
 * allocating keeps whatever garbage it had: after 2,000 documents came and went, the relay's heap
 * held ~100 MiB of them for as long as it stayed idle. A collection then costs a pause of a few
 * tens of milliseconds and returns most of that memory (what stays is V8's young generation,
 * which keeps the size the busy spell grew it to).
 */
export class MemoryReclaimer {
  readonly #settings: ReclaimSettings
  #highWater = 0
  #collections = 0

  constructor(settings: ReclaimSettings) {
    if (!Number.isInteger(settings.minUnloaded) || settings.minUnloaded < 1) {
      throw new RangeError(`minUnloaded must be a positive integer, got ${settings.minUnloaded}`)
    }
    const fraction = settings.maxRemainingFraction
    if (!(fraction >= 0 && fraction < 1)) {
      throw new RangeError(`maxRemainingFraction must be in [0, 1), got ${fraction}`)
    }
    this.#settings = settings
  }

  /** Collections run so far. */
  get collections(): number {
    return this.#collections
  }

  /** Reads the document count and collects if enough of them unloaded; returns whether it did. */
  check(): boolean {
    const { rooms, collect, minUnloaded, maxRemainingFraction, collected } = this.#settings
    const now = rooms()
    this.#highWater = Math.max(this.#highWater, now)
    const unloaded = this.#highWater - now
    if (unloaded < minUnloaded || now > this.#highWater * maxRemainingFraction) return false
    const before = process.memoryUsage().heapUsed
    collect()
    this.#collections++
    this.#highWater = now
    collected?.(before, process.memoryUsage().heapUsed)
    return true
  }
}

/**
 * The process's full garbage collection. Node offers it only behind `--expose-gc`; setting that
 * flag at run time exposes `gc` to contexts created afterwards.
 */
export const fullGc = (): (() => void) => {
  setFlagsFromString('--expose-gc')
  const gc: unknown = runInNewContext('gc')
  if (typeof gc !== 'function') throw new Error('this Node.js does not expose gc')
  // V8 shrinks its heap over the collections after the one that emptied it: two more follow.
  return () => {
    ;(gc as () => void)()
    for (const delayMs of [1_000, 2_000]) setTimeout(gc as () => void, delayMs).unref()
  }
}

/** Checks every `intervalMs` (the timer does not keep the process alive); `stop()` ends it. */
export const startMemoryReclaim = (
  settings: ReclaimSettings,
  intervalMs: number,
): { readonly reclaimer: MemoryReclaimer; stop(): void } => {
  const reclaimer = new MemoryReclaimer(settings)
  const timer = setInterval(() => reclaimer.check(), intervalMs)
  timer.unref()
  return { reclaimer, stop: () => clearInterval(timer) }
}
