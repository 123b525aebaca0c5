/** TokenRefresher: asks for a fresh token a margin before the current JWT expires, and retries with backoff. */
import { backoffDelayMs, type BackoffOptions } from './backoff.js'

/** When a JWT expires and was issued (ms since the epoch), read without verifying it. */
export interface TokenTimes {
  readonly expiresAtMs: number
  readonly issuedAtMs: number | null
}

/** Longest delay `setTimeout` takes; later times are re-armed in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1
/** Default margin: a tenth of the token's lifetime, at most this. */
const DEFAULT_MAX_MARGIN_MS = 60_000
/** Shortest wait before trying a failed refresh again. */
const MIN_RETRY_MS = 1_000

/**
 * The `exp` and `iat` of a JWT's payload, or `null` for a token that is not a JWT or has no
 * numeric `exp` (then nothing is scheduled). The signature is not checked: the relay does that.
 */
export const decodeTokenTimes = (token: string): TokenTimes | null => {
  const parts = token.split('.')
  if (parts.length !== 3 || parts[1] === undefined || parts[1] === '') return null
  try {
    const base64 = parts[1].replace(/-/g, '+').replace(/_/g, '/')
    const payload = JSON.parse(atob(base64.padEnd(Math.ceil(base64.length / 4) * 4, '='))) as {
      exp?: unknown
      iat?: unknown
    }
    if (typeof payload.exp !== 'number' || !Number.isFinite(payload.exp)) return null
    return {
      expiresAtMs: payload.exp * 1000,
      issuedAtMs:
        typeof payload.iat === 'number' && Number.isFinite(payload.iat) ? payload.iat * 1000 : null,
    }
  } catch {
    return null
  }
}

/**
 * When to refresh a token with these times, seen first at `nowMs`: `marginMs` before it expires
 * (default a tenth of its lifetime, at most 60 s), never before half its lifetime has passed.
 */
export const refreshAtMs = (times: TokenTimes, nowMs: number, marginMs: number | null): number => {
  const lifetimeMs = Math.max(0, times.expiresAtMs - (times.issuedAtMs ?? nowMs))
  const margin = Math.min(
    marginMs ?? Math.min(DEFAULT_MAX_MARGIN_MS, lifetimeMs / 10),
    lifetimeMs / 2,
  )
  return times.expiresAtMs - margin
}

/** Options of {@link TokenRefresher}. */
export interface TokenRefresherOptions {
  /** Gets a fresh token and hands it to the relay; resolves with it. */
  readonly refresh: () => Promise<string>
  /** How long before expiry to refresh; `null` for the default (see {@link refreshAtMs}). */
  readonly marginMs: number | null
  readonly backoff: BackoffOptions
  readonly random: () => number
  /** Told of each failed refresh and the wait before the next try. */
  readonly onFailure?: (error: unknown, retryInMs: number | null) => void
}

/**
 * Keeps a connection's token fresh: after {@link follow}(token) it calls `refresh` at the
 * token's refresh time, then follows the token that returns. A failed refresh, or one that gives
 * no later token, is tried again with backoff (at least 1 s apart) until the current token
 * expires; then it stops (the relay closes the session and the reconnect asks for a token).
 * Tokens that are not JWTs with `exp` schedule nothing. One timer at most, none after `stop`.
 */
export class TokenRefresher {
  readonly #options: TokenRefresherOptions
  #timer: ReturnType<typeof setTimeout> | null = null
  #failures = 0
  #epoch = 0

  constructor(options: TokenRefresherOptions) {
    this.#options = options
  }

  /** Schedules the refresh of `token` (the one the relay holds now), replacing any schedule. */
  follow(token: string): void {
    this.stop()
    this.#failures = 0
    const times = decodeTokenTimes(token)
    if (times === null) return
    this.#arm(refreshAtMs(times, Date.now(), this.#options.marginMs), times, this.#epoch)
  }

  /** Cancels the schedule (and drops the result of a refresh under way). */
  stop(): void {
    this.#epoch += 1
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
  }

  #arm(atMs: number, current: TokenTimes, epoch: number): void {
    const wait = Math.max(0, atMs - Date.now())
    this.#timer = setTimeout(
      () => {
        this.#timer = null
        if (epoch !== this.#epoch) return
        if (Date.now() < atMs) return this.#arm(atMs, current, epoch)
        void this.#run(current, epoch)
      },
      Math.min(wait, MAX_TIMER_MS),
    )
  }

  async #run(current: TokenTimes, epoch: number): Promise<void> {
    let problem: unknown
    try {
      const token = await this.#options.refresh()
      if (epoch !== this.#epoch) return
      const times = decodeTokenTimes(token)
      if (times === null) return this.stop()
      const atMs = refreshAtMs(times, Date.now(), this.#options.marginMs)
      if (atMs > Date.now()) {
        this.#failures = 0
        return this.#arm(atMs, times, epoch)
      }
      problem = new Error('the token function returned a token that expires too soon to follow')
    } catch (error) {
      if (epoch !== this.#epoch) return
      problem = error
    }
    const { backoff, random } = this.#options
    const delay = Math.max(MIN_RETRY_MS, backoffDelayMs(backoff, this.#failures, random))
    this.#failures += 1
    const retryAtMs = Date.now() + delay
    if (retryAtMs >= current.expiresAtMs) {
      this.#options.onFailure?.(problem, null)
      return
    }
    this.#options.onFailure?.(problem, delay)
    this.#arm(retryAtMs, current, epoch)
  }
}
