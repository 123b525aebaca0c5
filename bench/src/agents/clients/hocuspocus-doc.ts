/** A BenchDoc on Hocuspocus's own provider (`@hocuspocus/provider`). */
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider'
import * as Y from 'yjs'
import { trackedWebSocket, type BenchDoc } from '../bench-doc.js'

/** Opens `name` with a `HocuspocusProvider` on its own `HocuspocusProviderWebsocket`. */
export const openHocuspocusDoc = (url: string, name: string): BenchDoc => {
  const tracked = trackedWebSocket()
  const doc = new Y.Doc()
  const socket = new HocuspocusProviderWebsocket({ url, WebSocketPolyfill: tracked.Ctor })
  const provider = new HocuspocusProvider({ websocketProvider: socket, name, document: doc })
  provider.attach()
  const synced = new Promise<void>((resolve) => {
    if (provider.isSynced) resolve()
    provider.on('synced', () => resolve())
  })
  // The server acknowledges each update it has applied; unsyncedChanges counts the rest.
  const confirmed = (): Promise<void> =>
    new Promise((resolve) => {
      if (provider.unsyncedChanges === 0) return resolve()
      const onChange = ({ number }: { number: number }): void => {
        if (number !== 0) return
        provider.off('unsyncedChanges', onChange)
        resolve()
      }
      provider.on('unsyncedChanges', onChange)
    })
  const awareness = provider.awareness
  if (awareness === null) throw new Error('HocuspocusProvider has no awareness')
  return {
    doc,
    awareness,
    get synced() {
      return provider.isSynced
    },
    whenSynced: () => synced,
    whenConfirmed: confirmed,
    socket: tracked.latest,
    onFrame: tracked.onFrame,
    close: async () => {
      provider.destroy()
      socket.destroy()
      doc.destroy()
    },
  }
}
