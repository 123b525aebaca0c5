import type { LogContext, Logger } from '@weft/server'
import { RawSocket, startTestRelay, testClient, type TestRelay } from '@weft/testkit'
import { afterEach, describe, expect, it } from 'vitest'

let relay: TestRelay | undefined
afterEach(async () => {
  await relay?.close()
  relay = undefined
})

/** Resolves once `check` holds, checking every 5 ms for at most 5 s. */
const poll = async (check: () => boolean): Promise<void> => {
  for (let waited = 0; !check(); waited += 5) {
    if (waited > 5_000) throw new Error('condition not reached within 5 s')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

/** A logger keeping every line. */
const capture = (): { logger: Logger; lines: Array<{ message: string; context: LogContext }> } => {
  const lines: Array<{ message: string; context: LogContext }> = []
  const keep = (message: string, context: LogContext = {}): void => {
    lines.push({ message, context })
  }
  return { logger: { debug: keep, info: keep, warn: keep, error: keep }, lines }
}

describe('session log lines', () => {
  it('carry the connection, the user and the client correlation id once known', async () => {
    const { logger, lines } = capture()
    relay = await startTestRelay({ logger })
    const client = testClient(relay, { correlationId: 'corr-42' })
    const handle = client.open('doc')
    await handle.whenSynced()
    await client.close()
    await poll(() => lines.some((line) => line.message === 'socket closed'))
    const closed = lines.find((line) => line.message === 'socket closed')
    expect(closed?.context).toMatchObject({ user: 'anonymous', correlationId: 'corr-42' })
    expect(typeof closed?.context['connection']).toBe('string')
  })

  it('on the y-websocket dialect carry the user and the document', async () => {
    const { logger, lines } = capture()
    relay = await startTestRelay({ logger })
    const socket = await RawSocket.open(`${relay.url}/notes`, false)
    await poll(() => socket.frames.length > 0)
    socket.close()
    await socket.closed
    await poll(() => lines.some((line) => line.message === 'socket closed'))
    const closed = lines.find((line) => line.message === 'socket closed')
    expect(closed?.context).toMatchObject({ user: 'anonymous' })
  })
})
