import { silentLogger } from '@weft/server'
import { RawSocket } from '@weft/testkit'
import { SignJWT } from 'jose'
import { afterEach, describe, expect, it } from 'vitest'
import { parseCommand, type RelayConfig } from '../src/config.js'
import { startRelayServer, type RunningRelay } from '../src/relay-server.js'

// Rotating the HS256 secret without refusing live tokens: --jwt-extra-secret is accepted beside
// --jwt-secret while the tokens signed with the old one live.
const CURRENT = 'the-new-secret-of-at-least-32-bytes!!'
const PREVIOUS = 'the-old-secret-of-at-least-32-bytes!!'
const UNKNOWN = 'a-secret-this-relay-has-never-seen!!!'

let running: RunningRelay | undefined
const sockets: RawSocket[] = []
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.close()
  await running?.close()
  running = undefined
})

const token = (secret: string): Promise<string> =>
  new SignJWT({ weft: { docs: [{ pattern: '**', access: 'write' }] } })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('ada')
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(secret))

/** What the relay answers a `hello` with a token signed with `secret`: `welcome` or the close code. */
const answer = async (relay: RunningRelay, secret: string): Promise<string | number> => {
  const raw = await RawSocket.hello(relay.url.replace(/^http/, 'ws'), await token(secret))
  sockets.push(raw)
  return Promise.race([
    raw.nextMessage((message) => message.type === 'welcome').then(() => 'welcome'),
    raw.closed.then((closed) => closed.code),
  ])
}

describe('--jwt-extra-secret', () => {
  it('accepts tokens of either secret and refuses others with 4401', async () => {
    const command = parseCommand(['--port', '0', '--store', 'memory', '--auth', 'jwt'], {
      WEFT_JWT_SECRET: CURRENT,
      WEFT_JWT_EXTRA_SECRET: PREVIOUS,
    })
    if (command.kind !== 'run') throw new Error(`bad test config: ${JSON.stringify(command)}`)
    running = await startRelayServer(command.config as RelayConfig, silentLogger)
    expect(await answer(running, CURRENT)).toBe('welcome')
    expect(await answer(running, PREVIOUS)).toBe('welcome')
    expect(await answer(running, UNKNOWN)).toBe(4401)
  })

  it('is refused without --jwt-secret, and hidden in messages', () => {
    expect(
      parseCommand(['--auth', 'jwt', '--jwks-url', 'https://id.example/jwks.json'], {
        WEFT_JWT_EXTRA_SECRET: PREVIOUS,
      }),
    ).toMatchObject({ kind: 'invalid', message: expect.stringContaining('beside --jwt-secret') })
    const short = parseCommand(['--auth', 'jwt', '--jwt-extra-secret', 'short-secret'], {
      WEFT_JWT_SECRET: CURRENT,
    })
    expect(short).toMatchObject({
      kind: 'invalid',
      message: expect.stringContaining('at least 32'),
    })
    expect(JSON.stringify(short)).not.toContain('short-secret')
  })
})
