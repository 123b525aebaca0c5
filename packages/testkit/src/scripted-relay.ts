/** startScriptedRelay: a stand-in for a relay whose every answer the test writes, for client tests. */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { decodeMessage, encodeMessage, PROTOCOL_VERSION, type WeftMessage } from '@weft/protocol'
import { WebSocketServer, type WebSocket } from 'ws'

/** One client connection to a scripted relay. */
export interface ScriptedSocket {
  /** 1 for the first connection, 2 for the next… */
  readonly connection: number
  readonly socket: WebSocket
  send(message: WeftMessage): void
  /** Sends `welcome` (protocol version, a 1 MiB frame limit). */
  welcome(): void
  /** Answers `open` as a relay with an empty document would: sync step 2, then step 1. */
  serveEmpty(doc: string): void
}

/** A running scripted relay. */
export interface ScriptedRelay {
  readonly url: string
  /** Connections accepted so far. */
  connections(): number
  /** Stops listening and drops every client socket; resolves once the listener is closed. */
  close(): Promise<void>
}

/**
 * Starts a WebSocket server on loopback that speaks the Weft subprotocol and hands every decoded
 * client message to `onMessage`, which answers as the test needs (refuse, go silent, lose an
 * acknowledgement…).
 */
export const startScriptedRelay = async (
  onMessage: (message: WeftMessage, client: ScriptedSocket) => void,
): Promise<ScriptedRelay> => {
  const server = createServer()
  const wss = new WebSocketServer({ server, handleProtocols: () => 'weft' })
  let connections = 0
  wss.on('connection', (socket) => {
    const send = (message: WeftMessage): void => socket.send(encodeMessage(message))
    const client: ScriptedSocket = {
      connection: ++connections,
      socket,
      send,
      welcome: () =>
        send({
          type: 'welcome',
          version: PROTOCOL_VERSION,
          connectionId: `c${connections}`,
          maxMessageBytes: 1 << 20,
          server: 'scripted',
        }),
      serveEmpty: (doc) => {
        send({ type: 'sync-step-2', doc, ref: 0, update: new Uint8Array([0, 0]) })
        send({ type: 'sync-step-1', doc, stateVector: new Uint8Array([0]) })
      },
    }
    socket.on('message', (data: Buffer) => onMessage(decodeMessage(new Uint8Array(data)), client))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections: () => connections,
    close: async () => {
      // Drops the clients' sockets too: the listener would otherwise wait for them to leave.
      for (const socket of wss.clients) socket.terminate()
      wss.close()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
