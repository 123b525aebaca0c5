/** RelayDrift: how far a relay's loaded documents run ahead of its store, over all its rooms. */
import type { WriterDrift } from './room-writer.js'

/**
 * The drift of every loaded room, summed, with the oldest unpersisted update and the largest
 * uncompacted log. Read from memory (no store access), so it is cheap to read per scrape.
 */
export interface RelayDrift {
  /** Updates applied to loaded documents and not durable yet (queued or being appended). */
  readonly unpersistedUpdates: number
  /** Their bytes. */
  readonly unpersistedBytes: number
  /** When the oldest of them was received (ms since the epoch); null with none. */
  readonly oldestUnpersistedAtMs: number | null
  /** Log entries the loaded documents hold beyond their snapshots (what compaction folds). */
  readonly uncompactedEntries: number
  /** Their bytes. */
  readonly uncompactedBytes: number
  /** The most log entries one loaded document holds beyond its snapshot. */
  readonly maxUncompactedEntries: number
  /** The most log bytes one loaded document holds beyond its snapshot (maybe another one). */
  readonly maxUncompactedBytes: number
}

/** Sums the drift of each room (see {@link RelayDrift}); all zero (and null) with none. */
export const sumDrift = (rooms: Iterable<WriterDrift>): RelayDrift => {
  let unpersistedUpdates = 0
  let unpersistedBytes = 0
  let oldestUnpersistedAtMs: number | null = null
  let uncompactedEntries = 0
  let uncompactedBytes = 0
  let maxUncompactedEntries = 0
  let maxUncompactedBytes = 0
  for (const room of rooms) {
    unpersistedUpdates += room.unpersistedUpdates
    unpersistedBytes += room.unpersistedBytes
    const oldest = room.oldestUnpersistedAtMs
    if (oldest !== null && (oldestUnpersistedAtMs === null || oldest < oldestUnpersistedAtMs))
      oldestUnpersistedAtMs = oldest
    uncompactedEntries += room.uncompactedEntries
    uncompactedBytes += room.uncompactedBytes
    maxUncompactedEntries = Math.max(maxUncompactedEntries, room.uncompactedEntries)
    maxUncompactedBytes = Math.max(maxUncompactedBytes, room.uncompactedBytes)
  }
  return {
    unpersistedUpdates,
    unpersistedBytes,
    oldestUnpersistedAtMs,
    uncompactedEntries,
    uncompactedBytes,
    maxUncompactedEntries,
    maxUncompactedBytes,
  }
}
