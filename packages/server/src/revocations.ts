/** Revocations: tokens refused before they expire — by subject or by token id — kept in the store's state records. */
import { randomUUID } from 'node:crypto'
import { WeftError } from '@weft/protocol'
import { z } from 'zod'
import type { Identity } from './auth.js'
import type { DocStore } from './doc-store.js'
import type { Logger } from './logger.js'

/**
 * A revocation: the relay refuses the tokens it covers until `expiresAtMs`.
 * - by `subject`: every token of that `sub` issued at or before `revokedAtMs` (by its `iat`,
 *   whole seconds; a token without `iat` is refused until the revocation expires). A token issued
 *   after the revocation (a new sign-in) is accepted.
 * - by `tokenId`: the token whose `jti` it is, whatever its subject or age.
 */
export interface Revocation {
  /** Names it in `DELETE /admin/revocations/<id>` and `remove(id)`. */
  readonly id: string
  readonly subject?: string
  readonly tokenId?: string
  /** When it was made (ms since the epoch, the relay's clock). */
  readonly revokedAtMs: number
  /** When it lapses and is pruned (ms since the epoch). */
  readonly expiresAtMs: number
  /** Why, for operators and the closed clients' status; never parsed. */
  readonly reason: string
}

/** What {@link RevocationList.add} takes: exactly one of `subject`/`tokenId`, and `expiresAtMs` or `ttlMs`. */
export interface RevocationInput {
  readonly subject?: string
  readonly tokenId?: string
  /** When it lapses, ms since the epoch. Set it past the covered tokens' `exp`. */
  readonly expiresAtMs?: number
  /** Or how long it lasts from now, in ms. */
  readonly ttlMs?: number
  /** Default `the token was revoked`. */
  readonly reason?: string
}

/** The revocations of a relay: persisted, enforced on every authentication, shared through the store. */
export interface RelayRevocations {
  /**
   * Revokes a subject's tokens issued until now, or one token by its id (`jti`), until
   * `expiresAtMs` (or for `ttlMs`): writes it to the store, closes the sessions it covers with
   * `REVOKED` (4402, here and, with a bus, on every relay) and refuses those tokens from then on.
   * Throws `INVALID_ARGUMENT` naming a bad field.
   */
  add(input: RevocationInput): Promise<Revocation>
  /** The revocations in force, oldest first. */
  list(): Promise<Revocation[]>
  /** Lifts one by id (other relays stop refusing within their reload interval); `NOT_FOUND` if none. */
  remove(id: string): Promise<Revocation>
}

/** Key prefix of revocations among the store's state records (`revocation/<id>`). */
export const REVOCATION_PREFIX = 'revocation/'
/** Most revocations in force at once; more is refused (a deny list this long wants shorter tokens). */
export const MAX_REVOCATIONS = 10_000
/** Longest a revocation may last: a year and a day. */
export const MAX_REVOCATION_TTL_MS = 366 * 24 * 60 * 60 * 1000
/** Longest subject, token id or reason accepted. */
const MAX_TEXT = 1024

const text = z.string().min(1).max(MAX_TEXT)
const stored = z.strictObject({
  id: text,
  subject: text.optional(),
  tokenId: text.optional(),
  revokedAtMs: z.number().int().nonnegative(),
  expiresAtMs: z.number().int().nonnegative(),
  reason: z.string().max(MAX_TEXT),
})

/** Options of {@link RevocationList}. */
export interface RevocationListOptions {
  readonly store: Pick<DocStore, 'readState' | 'writeState'>
  readonly logger: Logger
  /** Wall clock, ms since the epoch. Default `Date.now`. */
  readonly now?: () => number
}

/**
 * The relay's revocations: a copy in memory of the store's, checked on every authentication, and
 * written through to the store so that a restart and every relay sharing the store refuse the
 * same tokens. Expired revocations are ignored at once and deleted from the store on the next
 * read or write. With several relays, one relay's new revocation reaches the others by the bus
 * ({@link learn}) and, if a message was lost, by their periodic {@link reload}.
 */
export class RevocationList {
  readonly #store: Pick<DocStore, 'readState' | 'writeState'>
  readonly #logger: Logger
  readonly #now: () => number
  #entries = new Map<string, Revocation>()
  /** Learned from the bus, kept until a read of the store started after they came. */
  readonly #learned = new Map<string, { revocation: Revocation; generation: number }>()
  #generation = 0
  #loaded: Promise<void> | null = null

  constructor(options: RevocationListOptions) {
    this.#store = options.store
    this.#logger = options.logger
    this.#now = options.now ?? Date.now
  }

  /** Resolves once the store was read once (a failed first read is tried again on the next call). */
  whenLoaded(): Promise<void> {
    this.#loaded ??= this.reload().catch((error: unknown) => {
      this.#loaded = null
      throw new WeftError('UNAVAILABLE', 'the revocation list could not be read; retry', {
        cause: error,
      })
    })
    return this.#loaded
  }

  /** Reads the store's revocations again (replacing this copy) and deletes the expired ones. */
  async reload(): Promise<void> {
    const generation = ++this.#generation
    const records = await this.#store.readState(REVOCATION_PREFIX)
    const now = this.#now()
    const entries = new Map<string, Revocation>()
    const expired: string[] = []
    for (const { key, value } of records) {
      const parsed = stored.safeParse(value)
      if (!parsed.success) {
        this.#logger.warn('a stored revocation is malformed; it is ignored', { key })
        continue
      }
      const revocation = revocationOf(parsed.data)
      if (revocation.expiresAtMs <= now) expired.push(key)
      else entries.set(revocation.id, revocation)
    }
    for (const [id, { revocation, generation: learnedAt }] of this.#learned) {
      if (learnedAt >= generation && revocation.expiresAtMs > now) entries.set(id, revocation)
      else this.#learned.delete(id)
    }
    this.#entries = entries
    if (expired.length > 0) {
      await this.#store.writeState(expired.map((key) => ({ key, value: null })))
    }
  }

  /** The `REVOKED` error for an identity a revocation covers, or `null`. */
  refusal(identity: Identity): WeftError | null {
    const now = this.#now()
    for (const revocation of this.#entries.values()) {
      if (revocation.expiresAtMs > now && covers(revocation, identity)) {
        return new WeftError('REVOKED', revocation.reason)
      }
    }
    return null
  }

  /** The revocations in force, oldest first. */
  list(): Revocation[] {
    const now = this.#now()
    return [...this.#entries.values()]
      .filter((revocation) => revocation.expiresAtMs > now)
      .sort((a, b) => a.revokedAtMs - b.revokedAtMs || a.id.localeCompare(b.id))
  }

  /**
   * Validates `input`, writes the revocation to the store (durably) and keeps it; resolves with
   * it. Throws `INVALID_ARGUMENT` naming the bad field, or once {@link MAX_REVOCATIONS} are in force.
   */
  async add(input: RevocationInput): Promise<Revocation> {
    const now = this.#now()
    const revocation = revocationFrom(input, now)
    await this.whenLoaded()
    if (this.list().length >= MAX_REVOCATIONS) {
      throw new WeftError(
        'INVALID_ARGUMENT',
        `${MAX_REVOCATIONS} revocations are in force; lift some or wait for them to expire`,
      )
    }
    const expired = [...this.#entries.values()].filter((each) => each.expiresAtMs <= now)
    await this.#store.writeState([
      { key: keyOf(revocation.id), value: revocation },
      ...expired.map((each) => ({ key: keyOf(each.id), value: null })),
    ])
    for (const each of expired) this.#entries.delete(each.id)
    // Kept like one learned from the bus, so that a read of the store already under way keeps it.
    this.learn(revocation)
    return revocation
  }

  /** Lifts revocation `id` (from the store too); throws `NOT_FOUND` when none is in force. */
  async remove(id: string): Promise<Revocation> {
    if (typeof id !== 'string' || id === '') {
      throw new WeftError('INVALID_ARGUMENT', 'name the revocation to lift by its id')
    }
    await this.whenLoaded()
    const revocation = this.#entries.get(id)
    if (revocation === undefined || revocation.expiresAtMs <= this.#now()) {
      throw new WeftError('NOT_FOUND', `no revocation "${id}" is in force; list them for their ids`)
    }
    await this.#store.writeState([{ key: keyOf(id), value: null }])
    this.#entries.delete(id)
    this.#learned.delete(id)
    return revocation
  }

  /**
   * A revocation another relay made and announced: kept at once, before the store is read again
   * (a read already under way does not drop it).
   */
  learn(revocation: Revocation): void {
    if (revocation.expiresAtMs <= this.#now()) return
    this.#entries.set(revocation.id, revocation)
    this.#learned.set(revocation.id, { revocation, generation: this.#generation })
  }
}

/** Whether `revocation` covers the token `identity` came from. */
export const covers = (revocation: Revocation, identity: Identity): boolean => {
  if (revocation.tokenId !== undefined) return identity.tokenId === revocation.tokenId
  if (revocation.subject !== identity.subject) return false
  // iat is in whole seconds: a token of the revocation's second counts as issued before it.
  return identity.issuedAtMs === undefined || identity.issuedAtMs <= revocation.revokedAtMs
}

const keyOf = (id: string): string => `${REVOCATION_PREFIX}${id}`

const revocationOf = (data: z.infer<typeof stored>): Revocation => ({
  id: data.id,
  ...(data.subject !== undefined ? { subject: data.subject } : {}),
  ...(data.tokenId !== undefined ? { tokenId: data.tokenId } : {}),
  revokedAtMs: data.revokedAtMs,
  expiresAtMs: data.expiresAtMs,
  reason: data.reason,
})

const input = z
  .strictObject({
    subject: text.optional(),
    tokenId: text.optional(),
    expiresAtMs: z.number().int().positive().optional(),
    ttlMs: z.number().int().positive().max(MAX_REVOCATION_TTL_MS).optional(),
    reason: z.string().min(1).max(MAX_TEXT).optional(),
  })
  .refine((value) => (value.subject === undefined) !== (value.tokenId === undefined), {
    message: 'give exactly one of subject or tokenId',
  })
  .refine((value) => (value.expiresAtMs === undefined) !== (value.ttlMs === undefined), {
    message: 'give exactly one of expiresAtMs or ttlMs',
  })

/** The revocation `raw` asks for at `now`; throws `INVALID_ARGUMENT` naming the problem. */
export const revocationFrom = (raw: unknown, now: number): Revocation => {
  const parsed = input.safeParse(raw)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const where = issue === undefined || issue.path.length === 0 ? '' : `${issue.path.join('.')}: `
    throw new WeftError(
      'INVALID_ARGUMENT',
      `${where}${issue?.message ?? 'invalid'}; send { "subject" | "tokenId", "ttlMs" | "expiresAtMs", "reason"? }`,
    )
  }
  const { subject, tokenId, expiresAtMs, ttlMs, reason } = parsed.data
  const expires = expiresAtMs ?? now + (ttlMs as number)
  if (expires <= now || expires - now > MAX_REVOCATION_TTL_MS) {
    throw new WeftError(
      'INVALID_ARGUMENT',
      `expiresAtMs must be in the future and at most ${MAX_REVOCATION_TTL_MS} ms away`,
    )
  }
  return {
    id: randomUUID(),
    ...(subject !== undefined ? { subject } : {}),
    ...(tokenId !== undefined ? { tokenId } : {}),
    revokedAtMs: now,
    expiresAtMs: expires,
    reason: reason ?? 'the token was revoked',
  }
}
