/** RevocationGuard: a relay's revocations at work — the authentication check, closing sessions, the bus and the periodic re-read. */
import type { Authenticator } from './auth.js'
import type { Logger } from './logger.js'
import type { BusMessage } from './relay-bus.js'
import {
  RevocationList,
  type RelayRevocations,
  type Revocation,
  type RevocationInput,
} from './revocations.js'
import type { AuthenticatedSession } from './session-auth.js'
import type { DocStore } from './doc-store.js'

/** A revoke message of the bus. */
export type RevokeMessage = Extract<BusMessage, { kind: 'revoke' }>

/** Options of {@link RevocationGuard}. */
export interface RevocationGuardOptions {
  readonly store: Pick<DocStore, 'readState' | 'writeState'>
  readonly logger: Logger
  /** The relay's authenticator; open mode is left alone (no tokens to revoke). */
  readonly auth: Authenticator
  /** The relay's authenticated sessions, to close those a revocation covers. */
  readonly sessions: ReadonlySet<AuthenticatedSession>
  /** Tells the other relays (with a bus), or `null` alone. */
  readonly announce: ((message: RevokeMessage) => void) | null
  /** How often (ms) to read the store's revocations again; 0 never (a relay without a bus). */
  readonly reloadMs: number
}

/**
 * Enforces a relay's revocations: {@link auth} refuses what they cover with `REVOKED`, `add`
 * closes the sessions it covers and announces it, {@link learn} takes another relay's, and a
 * timer reads the store again every `reloadMs` (closing what a lost announcement left open).
 */
export class RevocationGuard implements RelayRevocations {
  readonly #list: RevocationList
  readonly #options: RevocationGuardOptions
  readonly #timer: ReturnType<typeof setInterval> | null
  /** The relay's authenticator, then the revocation check. */
  readonly auth: Authenticator

  constructor(options: RevocationGuardOptions) {
    this.#options = options
    const { store, logger, auth, reloadMs } = options
    this.#list = new RevocationList({ store, logger })
    const active = auth.mode !== 'open'
    this.auth = active ? this.#checking(auth) : auth
    if (active) {
      this.#list.whenLoaded().catch((error: unknown) => {
        logger.warn('reading the revocations failed; the next authentication tries again', {
          error: String(error),
        })
      })
    }
    this.#timer = active && reloadMs > 0 ? setInterval(() => this.#reload(), reloadMs) : null
    this.#timer?.unref()
  }

  async add(input: RevocationInput): Promise<Revocation> {
    const revocation = await this.#list.add(input)
    this.#options.announce?.({
      kind: 'revoke',
      doc: '',
      origin: '',
      subject: revocation.subject ?? '',
      reason: revocation.reason,
      revocation: {
        id: revocation.id,
        ...(revocation.tokenId !== undefined ? { tokenId: revocation.tokenId } : {}),
        revokedAtMs: revocation.revokedAtMs,
        expiresAtMs: revocation.expiresAtMs,
      },
    })
    this.#closeCovered()
    this.#options.logger.info('revocation added', {
      revocation: revocation.id,
      by: revocation.subject !== undefined ? 'subject' : 'token id',
    })
    return revocation
  }

  async list(): Promise<Revocation[]> {
    await this.#list.whenLoaded()
    return this.#list.list()
  }

  async remove(id: string): Promise<Revocation> {
    const revocation = await this.#list.remove(id)
    this.#options.logger.info('revocation lifted', { revocation: id })
    return revocation
  }

  /**
   * Another relay's stored revocation, from the bus: refused from now on and its sessions here
   * closed. Returns false for a message without one (`relay.revoke`), which the caller handles.
   */
  learn(message: RevokeMessage): boolean {
    const { revocation } = message
    if (revocation === undefined) return false
    this.#list.learn({
      ...revocation,
      ...(message.subject !== '' ? { subject: message.subject } : {}),
      reason: message.reason,
    })
    this.#closeCovered()
    return true
  }

  /** Stops the periodic read. */
  close(): void {
    if (this.#timer !== null) clearInterval(this.#timer)
  }

  #checking(auth: Authenticator): Authenticator {
    const list = this.#list
    return {
      mode: auth.mode,
      authenticate: async (token) => {
        const identity = await auth.authenticate(token)
        // Nothing is accepted before the store's revocations were read once.
        await list.whenLoaded()
        const refusal = list.refusal(identity)
        if (refusal !== null) throw refusal
        return identity
      },
    }
  }

  /** Closes the sessions whose token a revocation covers, with `REVOKED`. */
  #closeCovered(): void {
    for (const session of [...this.#options.sessions]) {
      const identity = session.identity
      const refusal = identity === null ? null : this.#list.refusal(identity)
      if (refusal !== null) session.revoke(refusal)
    }
  }

  #reload(): void {
    this.#list.reload().then(
      () => this.#closeCovered(),
      (error: unknown) =>
        this.#options.logger.warn('reading the revocations again failed', {
          error: String(error),
        }),
    )
  }
}
