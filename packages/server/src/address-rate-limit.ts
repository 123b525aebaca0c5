/** AddressRateLimit: a request rate per client address, in memory bounded by an address cap. */
import { WeftError } from '@weft/protocol'
import { TokenBucket } from './token-bucket.js'

/** Options of {@link AddressRateLimit}. */
export interface AddressRateLimitOptions {
  /** Requests a second one address may make; twice that in a burst. */
  readonly perSecond: number
  /** Addresses tracked at once; past it the least recently seen one is forgotten. */
  readonly maxAddresses: number
  /** The clock, in ms. Default `Date.now`. */
  readonly now?: () => number
}

/**
 * One token bucket per client address. Memory stays bounded: the buckets are kept in the order
 * their addresses were last seen and the oldest is dropped once there are more than
 * `maxAddresses` — a forgotten address starts again with a full burst, which is what an idle one
 * has anyway.
 */
export class AddressRateLimit {
  readonly #perSecond: number
  readonly #maxAddresses: number
  readonly #now: () => number
  /** Least recently seen first (a Map iterates in insertion order; a hit re-inserts). */
  readonly #buckets = new Map<string, TokenBucket>()

  constructor(options: AddressRateLimitOptions) {
    const { perSecond, maxAddresses, now = Date.now } = options
    if (!Number.isSafeInteger(perSecond) || perSecond < 1) {
      throw new WeftError('INVALID_ARGUMENT', 'perSecond must be a positive integer')
    }
    if (!Number.isSafeInteger(maxAddresses) || maxAddresses < 1) {
      throw new WeftError('INVALID_ARGUMENT', 'maxAddresses must be a positive integer')
    }
    this.#perSecond = perSecond
    this.#maxAddresses = maxAddresses
    this.#now = now
  }

  /** Addresses tracked now (at most `maxAddresses`). */
  get size(): number {
    return this.#buckets.size
  }

  /**
   * Counts one request from `address`: 0 when it may go ahead, else the milliseconds until it may
   * (a refused request costs nothing, so a client that waits that long gets through).
   */
  admit(address: string): number {
    const nowMs = this.#now()
    let bucket = this.#buckets.get(address)
    if (bucket === undefined) {
      bucket = new TokenBucket(this.#perSecond, 2 * this.#perSecond, nowMs)
    } else {
      this.#buckets.delete(address)
    }
    this.#buckets.set(address, bucket)
    if (this.#buckets.size > this.#maxAddresses) {
      const oldest = this.#buckets.keys().next().value as string
      this.#buckets.delete(oldest)
    }
    return bucket.tryTake(1, nowMs)
  }
}
