/** An editor binding that follows a provider's document: re-created, the old one destroyed, on `reset`. */
import { WeftError } from '@weft/protocol'
import type { Awareness } from 'y-protocols/awareness'
import type * as Y from 'yjs'

/**
 * What a binding factory returns: the binding itself when it has `destroy()` (y-quill's
 * `QuillBinding`, y-monaco's `MonacoBinding`, a Tiptap `Editor`), a cleanup function, or nothing.
 */
export type ProviderBinding = { destroy(): void } | (() => void) | undefined | void

/** Creates a binding to `doc` and its `awareness`; called again with the new ones on `reset`. */
export type BindingFactory = (doc: Y.Doc, awareness: Awareness) => ProviderBinding

const checked = (binding: ProviderBinding): ProviderBinding => {
  if (binding === undefined || typeof binding === 'function') return binding
  if (typeof binding === 'object' && binding !== null && typeof binding.destroy === 'function')
    return binding
  throw new WeftError(
    'INVALID_ARGUMENT',
    'a binding factory must return a function, an object with destroy(), or nothing',
  )
}

const release = (binding: ProviderBinding): void => {
  if (typeof binding === 'function') binding()
  else binding?.destroy()
}

/** One `provider.bind(create)`: the binding of the current document, until `destroy()`. */
export class FollowedBinding {
  readonly #create: BindingFactory
  #current: ProviderBinding
  #live = true

  constructor(create: BindingFactory, doc: Y.Doc, awareness: Awareness) {
    this.#create = create
    this.#current = checked(create(doc, awareness))
  }

  /** Destroys the binding of the old document, then binds the new one. */
  rebind(doc: Y.Doc, awareness: Awareness): void {
    if (!this.#live) return
    const old = this.#current
    // Cleared first: a cleanup that throws must not be run twice.
    this.#current = undefined
    release(old)
    this.#current = checked(this.#create(doc, awareness))
  }

  /** Destroys the current binding; later resets leave it alone. */
  destroy(): void {
    if (!this.#live) return
    this.#live = false
    const current = this.#current
    this.#current = undefined
    release(current)
  }
}
