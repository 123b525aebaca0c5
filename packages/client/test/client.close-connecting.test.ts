import { createServer, type Socket } from 'node:net'
import { createClient } from '@weft/client'
import { describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'

describe('closing a client', () => {
  it('while its socket is still connecting neither throws nor leaves an unhandled error', async () => {
    // Accepts TCP and never answers the upgrade: the client's socket stays CONNECTING.
    const held: Socket[] = []
    const server = createServer((socket) => held.push(socket))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as { port: number }
    const errors: unknown[] = []
    const onError = (error: unknown): void => {
      errors.push(error)
    }
    process.on('uncaughtException', onError)
    try {
      const client = createClient({ url: `ws://127.0.0.1:${port}`, WebSocket: WebSocket })
      client.open('never')
      await new Promise<void>((resolve, reject) => {
        const deadline = setTimeout(() => reject(new Error('no TCP connection')), 5000)
        const check = setInterval(() => {
          if (held.length > 0) {
            clearInterval(check)
            clearTimeout(deadline)
            resolve()
          }
        }, 5)
      })
      await client.close()
      await new Promise((resolve) => setTimeout(resolve, 100))
      expect(errors).toEqual([])
    } finally {
      process.off('uncaughtException', onError)
      for (const socket of held) socket.destroy()
      server.close()
    }
  })
})
