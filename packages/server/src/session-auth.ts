/** SessionAuth: one socket's identity — login, refresh, expiry, and per-document access. */
import { WeftError } from '@weft/protocol'
import { accessFor, type Authenticator, type DocAccess, type Identity } from './auth.js'

/** A session the relay can find by subject or token, to revoke it. */
export interface AuthenticatedSession {
  readonly subject: string
  /** The identity of its current token (`null` before login). */
  readonly identity: Identity | null
  revoke(error: WeftError): void
}

/** Longest delay `setTimeout` takes; later expiries are re-armed in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1

/**
 * Holds what a socket's token allows. `login` and `refresh` verify a token; when the identity
 * expires without a refresh, `onExpired` runs (the session closes with `UNAUTHORIZED`).
 */
export class SessionAuth {
  readonly #auth: Authenticator
  readonly #onExpired: (error: WeftError) => void
  #identity: Identity | null = null
  #timer: ReturnType<typeof setTimeout> | null = null
  #disposed = false

  constructor(auth: Authenticator, onExpired: (error: WeftError) => void) {
    this.#auth = auth
    this.#onExpired = onExpired
  }

  /** The verified identity, or `null` before login. */
  get identity(): Identity | null {
    return this.#identity
  }

  /** The token subject, or `anonymous` before login. */
  get subject(): string {
    return this.#identity?.subject ?? 'anonymous'
  }

  /** Owner of the Yjs client ids the session writes under: its subject; `null` in open mode. */
  get owner(): string | null {
    return this.#auth.mode === 'open' ? null : this.subject
  }

  /** Verifies the first token of the session. */
  async login(token: string): Promise<Identity> {
    return this.#adopt(await this.#auth.authenticate(token))
  }

  /**
   * Verifies a fresh token for the same subject and replaces the old one (scopes may change).
   * A token for another subject is refused with `UNAUTHORIZED`.
   */
  async refresh(token: string): Promise<Identity> {
    const identity = await this.#auth.authenticate(token)
    const current = this.#identity
    if (current !== null && identity.subject !== current.subject) {
      throw new WeftError('UNAUTHORIZED', 'a refreshed token must have the same subject')
    }
    return this.#adopt(identity)
  }

  /** What the session may do with document `name` (nothing before login). */
  access(name: string): DocAccess {
    if (this.#identity === null) return { read: false, write: false, types: null }
    return accessFor(this.#identity, name)
  }

  /** Stops the expiry timer; nothing is reported afterwards. */
  dispose(): void {
    this.#disposed = true
    this.#clearTimer()
  }

  #adopt(identity: Identity): Identity {
    if (this.#disposed) return identity
    this.#identity = identity
    this.#arm()
    return identity
  }

  #arm(): void {
    this.#clearTimer()
    const expiresAtMs = this.#identity?.expiresAtMs ?? null
    if (expiresAtMs === null) return
    const wait = expiresAtMs - Date.now()
    if (wait <= 0) {
      this.#onExpired(new WeftError('UNAUTHORIZED', 'the token expired; refresh it in time'))
      return
    }
    this.#timer = setTimeout(() => this.#arm(), Math.min(wait, MAX_TIMER_MS))
    this.#timer.unref?.()
  }

  #clearTimer(): void {
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
  }
}
