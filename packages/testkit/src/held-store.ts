/** HeldStore: a MemoryStore whose appends can be held back, to watch what waits for the disk. */
import { MemoryStore } from '@weft/server'

/** A MemoryStore whose appends wait while held; `appending` resolves as one reaches it. */
export class HeldStore extends MemoryStore {
  #held: Promise<void> | null = null
  #release: () => void = () => {}
  #arrived: Array<() => void> = []
  /** Appends written so far. */
  appends = 0

  /** Appends from now on wait until {@link release}. */
  hold(): void {
    this.#held = new Promise((resolve) => (this.#release = resolve))
  }

  /** Lets the appends waiting (and later ones) through. */
  release(): void {
    this.#held = null
    this.#release()
  }

  /** Resolves once an append (the next one, or one waiting already) reached the store. */
  appending(): Promise<void> {
    return new Promise((resolve) => this.#arrived.push(resolve))
  }

  override async append(...args: Parameters<MemoryStore['append']>): Promise<number> {
    for (const arrived of this.#arrived.splice(0)) arrived()
    if (this.#held !== null) await this.#held
    this.appends += 1
    return super.append(...args)
  }
}
