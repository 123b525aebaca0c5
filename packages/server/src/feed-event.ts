/** feedEventJson: a feed entry as the HTTP API, the event stream and webhooks send it. */
import type { FeedEntry } from './doc-store.js'

/** A feed entry with its stable `id` (its position, as a string) first. */
export const feedEventJson = (entry: FeedEntry): FeedEntry & { readonly id: string } => ({
  id: String(entry.position),
  ...entry,
})
