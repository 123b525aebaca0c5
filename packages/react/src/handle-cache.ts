/**
 * The documents components hold open: one DocHandle per client and name, opened on first use
 * and closed once no mounted component holds it, whatever the order React renders and unmounts in.
 */
import type { DocHandle, WeftClient } from '@weft/client'

/**
 * How long a handle no mounted component holds stays open: long enough for StrictMode's
 * unmount-and-remount, or a component moving in the tree, to keep the same handle.
 */
const RELEASE_DELAY_MS = 100
/**
 * How long a handle opened by a render that never committed (a render thrown away, a Suspense
 * fallback shown instead) stays open once nothing waits on it.
 */
const UNCLAIMED_DELAY_MS = 5000

/** One open document and who holds it. */
export interface HandleEntry {
  readonly handle: DocHandle
  /** The local copy is in `handle.doc` (`whenLoaded()` resolved). */
  loaded: boolean
  /** The relay's state has arrived once since the handle opened (later disconnections aside). */
  synced: boolean
  /** Mounted components holding it. */
  holders: number
  /** Suspended renders waiting on it: it is not closed under them. */
  waiting: number
  timer: ReturnType<typeof setTimeout> | undefined
  /** What suspended renders wait on, by what they wait for; dropped once settled. */
  readonly waits: Map<string, Promise<void>>
}

const entries = new WeakMap<WeftClient, Map<string, HandleEntry>>()

/** The entry of `name` on `client`, opening the document if no component holds it. */
export const acquireHandle = (client: WeftClient, name: string): HandleEntry => {
  let byName = entries.get(client)
  if (byName === undefined) {
    byName = new Map()
    entries.set(client, byName)
  }
  const existing = byName.get(name)
  if (existing !== undefined) return existing
  const entry: HandleEntry = {
    handle: client.open(name),
    loaded: false,
    synced: false,
    holders: 0,
    waiting: 0,
    timer: undefined,
    waits: new Map(),
  }
  byName.set(name, entry)
  const onSynced = (): void => {
    entry.synced = true
    entry.handle.off('synced', onSynced)
  }
  entry.handle.on('synced', onSynced)
  entry.handle.whenLoaded().then(
    () => (entry.loaded = true),
    () => {}, // a local copy that cannot be read puts the handle in `error`, which useDoc reports
  )
  scheduleClose(client, name, entry, UNCLAIMED_DELAY_MS)
  return entry
}

/** A mounted component holds `entry` (from its effect). */
export const holdHandle = (entry: HandleEntry): void => {
  entry.holders += 1
  if (entry.timer !== undefined) clearTimeout(entry.timer)
  entry.timer = undefined
}

/** A component that held `entry` unmounted (or moved to another document). */
export const releaseHandle = (client: WeftClient, name: string, entry: HandleEntry): void => {
  entry.holders -= 1
  if (entry.holders === 0) scheduleClose(client, name, entry, RELEASE_DELAY_MS)
}

/** Waits on `wait` for a suspended render, keeping the handle open until it settles. */
export const waitOn = (
  client: WeftClient,
  name: string,
  entry: HandleEntry,
  key: string,
  start: () => Promise<void>,
): Promise<void> => {
  const known = entry.waits.get(key)
  if (known !== undefined) return known
  entry.waiting += 1
  const settled = (): void => {
    entry.waits.delete(key)
    entry.waiting -= 1
    if (entry.holders === 0) scheduleClose(client, name, entry, UNCLAIMED_DELAY_MS)
  }
  // A rejection (the handle closed, an error status) ends the wait; the retried render reports it.
  const wait = start().then(settled, settled)
  entry.waits.set(key, wait)
  return wait
}

const scheduleClose = (
  client: WeftClient,
  name: string,
  entry: HandleEntry,
  delayMs: number,
): void => {
  if (entry.timer !== undefined) clearTimeout(entry.timer)
  entry.timer = setTimeout(() => {
    entry.timer = undefined
    if (entry.holders > 0 || entry.waiting > 0) return
    const byName = entries.get(client)
    if (byName?.get(name) === entry) byName.delete(name)
    void entry.handle.close()
  }, delayMs)
}
