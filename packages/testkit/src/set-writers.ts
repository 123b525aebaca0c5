/** The writers of the set checks: each adds `client:seq` items and records when they were saved. */
import type { DocHandle } from '@weft/client'

/** One add: when it was made and how long until its `saved` (null while unacknowledged). */
export interface SetItemStatus {
  readonly addedAt: number
  savedMs: number | null
}

/** One writer: its index (the items' prefix) and its handle of the set document. */
export interface SetWriter {
  readonly index: number
  readonly handle: DocHandle
}

/** Options of {@link writeSetItems}. */
export interface SetWriteOptions {
  /** Items each writer adds. */
  readonly items: number
  /** Milliseconds between a writer's adds. */
  readonly intervalMs: number
  /** How long (ms) the last adds get to be acknowledged. Default 15 000. */
  readonly ackWaitMs?: number
}

/**
 * Has every writer add `items` unique items (`<index>:<seq>`) to the `items` array, recording
 * each in `status`. Resolves with the times (ms) from an add until every other writer had it,
 * once the last adds were acknowledged or `ackWaitMs` passed.
 */
export const writeSetItems = async (
  writers: readonly SetWriter[],
  status: Map<string, SetItemStatus>,
  options: SetWriteOptions,
): Promise<number[]> => {
  // How many other writers have seen each item; the time once the last of them did.
  const seenBy = new Map<string, number>()
  const convergeTimes: number[] = []
  const write = async ({ index, handle }: SetWriter): Promise<void> => {
    const items = handle.doc.getArray<string>('items')
    items.observe((event) => {
      for (const change of event.changes.delta) {
        if (!Array.isArray(change.insert)) continue
        for (const item of change.insert as string[]) {
          if (item.startsWith(`${index}:`)) continue
          const seen = (seenBy.get(item) ?? 0) + 1
          seenBy.set(item, seen)
          const added = status.get(item)
          if (seen === writers.length - 1 && added !== undefined)
            convergeTimes.push(performance.now() - added.addedAt)
        }
      }
    })
    const waits: Array<Promise<void>> = []
    for (let seq = 0; seq < options.items; seq++) {
      const item = `${index}:${seq}`
      const entry: SetItemStatus = { addedAt: performance.now(), savedMs: null }
      status.set(item, entry)
      items.push([item])
      waits.push(
        handle.whenSaved().then(
          () => {
            entry.savedMs = performance.now() - entry.addedAt
          },
          () => {},
        ),
      )
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs))
    }
    // Give the last adds a bounded chance to be acknowledged.
    await Promise.race([
      Promise.all(waits),
      new Promise((resolve) => setTimeout(resolve, options.ackWaitMs ?? 15_000)),
    ])
  }
  await Promise.all(writers.map(write))
  return convergeTimes
}
