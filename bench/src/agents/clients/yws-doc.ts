/** A BenchDoc on the stock y-websocket `WebsocketProvider` (for Weft's y-websocket dialect and y-websocket-server). */
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { trackedWebSocket, whenDrained, type BenchDoc } from '../bench-doc.js'

/** Opens `name` with a stock provider on its own socket; BroadcastChannel off (all in Node). */
export const openYwsDoc = (url: string, name: string): BenchDoc => {
  const tracked = trackedWebSocket()
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(url, name, doc, {
    WebSocketPolyfill: tracked.Ctor as never,
    disableBc: true,
  })
  const synced = new Promise<void>((resolve) => {
    if (provider.synced) resolve()
    const onSync = (isSynced: boolean): void => {
      if (!isSynced) return
      provider.off('sync', onSync)
      resolve()
    }
    provider.on('sync', onSync)
  })
  return {
    doc,
    awareness: provider.awareness,
    get synced() {
      return provider.synced
    },
    whenSynced: () => synced,
    whenConfirmed: () => whenDrained(tracked.latest()),
    socket: tracked.latest,
    onFrame: tracked.onFrame,
    close: async () => {
      provider.destroy()
      doc.destroy()
    },
  }
}
