/** testClient: a Weft client of a test relay over `ws`, closed when the test that made it ends. */
import {
  createClient,
  type BackoffOptions,
  type ClientOptions,
  type WeftClient,
} from '@weft/client'
import { onTestFinished } from 'vitest'
import { WebSocket } from 'ws'
import { writeToken } from './tokens.js'

/**
 * Reconnection backoff of test clients: the first retry within 20 ms, none later than 100 ms
 * apart, stable after 1 s, so a test that drops a connection never waits out the production
 * backoff (250 ms first, up to 30 s).
 */
export const FAST_BACKOFF: Readonly<BackoffOptions> = {
  initialMs: 20,
  maxMs: 100,
  slowRetryMs: 100,
  stableMs: 1000,
}

/**
 * What a test client connects to: a test relay, a scripted relay, a fault proxy, or any
 * `{ url }`. `authMode: 'token'` (as a test relay with `jwtAuth` reports) makes the client send a
 * token.
 */
export interface TestClientTarget {
  readonly url: string
  readonly authMode?: 'open' | 'token'
}

/** Options of {@link testClient}: any client option, plus who the made-up token is for. */
export interface TestClientOptions extends Partial<ClientOptions> {
  /**
   * Subject of the write-everything token (signed with `TEST_SECRET`, fresh on every connect)
   * sent to a relay whose `authMode` is `token` when no `token` is given. Default `test-user`.
   */
  user?: string
}

/**
 * Creates a client of `relay`: its `url`, Node's `ws` WebSocket, {@link FAST_BACKOFF} (merged
 * under a given `backoff`), a token for `user` when the relay verifies tokens, and the client's
 * own default store, a fresh `MemoryLocalStore`. Any option given wins. The client is closed once
 * the test has finished: after its `afterEach` hooks, so a relay closed there is already gone,
 * which a client takes like any relay shutdown. Closing it earlier in the test is fine.
 */
export const testClient = (
  relay: TestClientTarget,
  options: TestClientOptions = {},
): WeftClient => {
  const { user = 'test-user', backoff, ...clientOptions } = options
  const client = createClient({
    url: relay.url,
    WebSocket,
    ...(relay.authMode === 'token' ? { token: () => writeToken(user) } : {}),
    ...clientOptions,
    backoff: { ...FAST_BACKOFF, ...backoff },
  })
  onTestFinished(() => client.close())
  return client
}
