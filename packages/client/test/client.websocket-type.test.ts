import { createClient, type WebSocketConstructor } from '@weft/client'
import { startTestRelay } from '@weft/testkit'
import { describe, expect, it } from 'vitest'
import { WebSocket as NodeWebSocket } from 'ws'

describe('the client with a WebSocket implementation as it is', () => {
  it("takes Node's ws and the browser's WebSocket without a cast, and saves over ws", async () => {
    // Checked by tsc: both constructors are WebSocketConstructor as they are.
    const browser: typeof globalThis.WebSocket | undefined = globalThis.WebSocket
    const constructors: WebSocketConstructor[] = [NodeWebSocket]
    if (browser !== undefined) constructors.push(browser)
    const relay = await startTestRelay()
    try {
      const client = createClient({ url: relay.url, WebSocket: NodeWebSocket })
      const handle = client.open('typed')
      handle.doc.getText('t').insert(0, 'saved over ws')
      await handle.whenSaved()
      expect(handle.pending).toBe(0)
      await client.close()
    } finally {
      await relay.close()
    }
  })
})
