/** A BenchDoc on Weft's own client (`@weft/client`), one client (one socket) per document. */
import { createClient } from '@weft/client'
import { trackedWebSocket, type BenchDoc } from '../bench-doc.js'

/**
 * Opens `name` with a fresh Weft client on its own socket (in-memory local store), sending
 * `token` in `hello` when given (a relay with `--auth jwt`).
 */
export const openWeftDoc = (url: string, name: string, token?: string): BenchDoc => {
  const tracked = trackedWebSocket()
  const client = createClient({
    url,
    WebSocket: tracked.Ctor,
    clientName: 'weft-bench',
    ...(token === undefined ? {} : { token }),
  })
  const handle = client.open(name)
  return {
    doc: handle.doc,
    get awareness() {
      return handle.awareness
    },
    get synced() {
      return handle.synced
    },
    whenSynced: () => handle.whenSynced(),
    whenConfirmed: () => handle.whenSaved(),
    socket: tracked.latest,
    onFrame: tracked.onFrame,
    close: () => client.close(),
  }
}
