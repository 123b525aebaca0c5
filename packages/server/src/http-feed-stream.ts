/**
 * streamFeed: the change feed as server-sent events. Each change is an event whose `id` is its
 * position, so an EventSource (or any client sending `Last-Event-ID`) resumes after the last one
 * it received; `cursor` events move that id past changes the filter skipped, and comments keep
 * idle connections open.
 */
import type { ServerResponse } from 'node:http'
import type { ChangeFeed } from './change-feed.js'
import type { FeedEntry } from './doc-store.js'
import { feedEventJson } from './feed-event.js'
import { sendHttpError } from './http-support.js'

/** How often an idle stream sends a keep-alive comment. */
const KEEP_ALIVE_MS = 15_000

/** Streams the feed from `read.after` until the client disconnects or the relay stops. */
export const streamFeed = async (
  response: ServerResponse,
  feed: ChangeFeed,
  read: {
    after?: number
    limit: number
    filter: (entry: FeedEntry) => boolean
    /** Who reads (see `FeedReadOptions.consumer`). */
    consumer?: string
  },
  headers: Record<string, string>,
): Promise<void> => {
  const stop = new AbortController()
  response.once('close', () => stop.abort())
  // The first read happens before the headers, so a bad or expired cursor is a plain error.
  const consumer = read.consumer === undefined ? {} : { consumer: read.consumer }
  let page = await feed.read({
    ...(read.after === undefined ? {} : { after: read.after }),
    limit: read.limit,
    filter: read.filter,
    ...consumer,
  })
  response.writeHead(200, {
    ...headers,
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  })
  response.flushHeaders()
  let cursor = read.after ?? 0
  try {
    for (;;) {
      let text = ''
      for (const entry of page.entries) {
        text += `id: ${entry.position}\nevent: change\ndata: ${JSON.stringify(feedEventJson(entry))}\n\n`
      }
      if (page.cursor > (page.entries.at(-1)?.position ?? cursor)) {
        text += `id: ${page.cursor}\nevent: cursor\ndata: {"cursor":"${page.cursor}"}\n\n`
      }
      if (text === '') text = ': keep-alive\n\n'
      cursor = page.cursor
      if (!response.write(text)) await drained(response, stop.signal)
      if (stop.signal.aborted) return
      page = await feed.read({
        after: cursor,
        limit: read.limit,
        filter: read.filter,
        waitMs: KEEP_ALIVE_MS,
        signal: stop.signal,
        ...consumer,
      })
      if (stop.signal.aborted) return
    }
  } catch (error) {
    // Headers are out: the stream ends, and the client reconnects with its last event id.
    sendHttpError(response, error)
  }
}

const drained = (response: ServerResponse, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const done = (): void => {
      response.off('drain', done)
      signal.removeEventListener('abort', done)
      resolve()
    }
    response.once('drain', done)
    signal.addEventListener('abort', done, { once: true })
  })
