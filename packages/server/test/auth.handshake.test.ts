import { ERROR_CODES } from '@weft/protocol'
import { openAuth, type Authenticator, type Identity, type Logger } from '@weft/server'
import { RawSocket, startTestRelay, type TestRelay } from '@weft/testkit'
import { afterEach, describe, expect, it } from 'vitest'

let relay: TestRelay | undefined
const sockets: RawSocket[] = []

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.close()
  await relay?.close()
  relay = undefined
})

/** An authenticator that answers only when the test releases it. */
const heldAuth = (): { auth: Authenticator; release: () => void } => {
  let release = (): void => {}
  const gate = new Promise<void>((resolve) => {
    release = resolve
  })
  const identity: Identity = {
    subject: 'slow',
    scopes: [{ pattern: '**', access: 'write' }],
    expiresAtMs: null,
  }
  return {
    auth: {
      mode: 'token',
      authenticate: async () => {
        await gate
        return identity
      },
    },
    release,
  }
}

const hello = async (url: string): Promise<RawSocket> => {
  const raw = await RawSocket.hello(url, 'any')
  sockets.push(raw)
  return raw
}

describe('the authentication handshake', () => {
  it('refuses a socket that sends too much before its token is verified (4429)', async () => {
    const held = heldAuth()
    relay = await startTestRelay({ auth: held.auth, maxPreAuthMessages: 8 })
    const raw = await hello(relay.url)
    for (let nonce = 1; nonce <= 9; nonce++) raw.sendMessage({ type: 'ping', nonce })
    expect((await raw.closed).code).toBe(ERROR_CODES.RATE_LIMITED.closeCode)
    held.release()
  })

  it('closes a socket whose token is not verified within the hello timeout (4408)', async () => {
    const held = heldAuth()
    relay = await startTestRelay({ auth: held.auth, helloTimeoutMs: 200 })
    const raw = await hello(relay.url)
    const closed = await raw.closed
    expect(closed.code).toBe(ERROR_CODES.TIMEOUT.closeCode)
    held.release()
  })

  it('serves what waited once the token is verified, in order', async () => {
    const held = heldAuth()
    relay = await startTestRelay({ auth: held.auth })
    const raw = await hello(relay.url)
    for (let nonce = 1; nonce <= 3; nonce++) raw.sendMessage({ type: 'ping', nonce })
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(raw.frames).toEqual([])
    held.release()
    await raw.nextMessage((message) => message.type === 'pong' && message.nonce === 3)
    const types = raw.frames.length
    expect(types).toBe(4) // welcome, then the three pongs
  })

  it('says so in the log when it starts without authentication', async () => {
    const lines: Array<{ level: string; message: string }> = []
    const logger: Logger = {
      debug: () => {},
      info: (message) => lines.push({ level: 'info', message }),
      warn: (message) => lines.push({ level: 'warn', message }),
      error: (message) => lines.push({ level: 'error', message }),
    }
    relay = await startTestRelay({ auth: openAuth(), logger })
    expect(lines).toContainEqual({
      level: 'warn',
      message: 'authentication is off (open mode): anyone may read and write every document',
    })
  })
})
