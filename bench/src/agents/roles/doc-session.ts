/** The one document an agent holds for trace roles (writer, reader, verifier). */
import { deadline } from '../../clock.js'
import type { ClientKind } from '../../systems.js'
import type { BenchDoc } from '../bench-doc.js'
import { openDoc } from '../open-doc.js'
import type { Methods } from './methods.js'

let current: BenchDoc | null = null

/** The open document; throws if `doc.open` was not called. */
export const currentDoc = (): BenchDoc => {
  if (current === null) throw new Error('no document open (call doc.open first)')
  return current
}

/** Parameters of `doc.open`. */
export interface OpenParams {
  readonly kind: ClientKind
  readonly url: string
  readonly name: string
  readonly timeoutMs?: number
  /** Bearer token for a relay that verifies tokens (Weft's client only). */
  readonly token?: string
}

export const docSessionMethods: Methods = {
  /** Opens the document and resolves with its Yjs client id once the client reports synced. */
  'doc.open': async (params) => {
    const { kind, url, name, timeoutMs = 30_000, token } = params as OpenParams
    if (current !== null) await current.close()
    current = openDoc(kind, url, name, token)
    await deadline(current.whenSynced(), timeoutMs, `${kind} client did not sync ${name}`)
    return { clientId: current.doc.clientID }
  },
  'doc.close': async () => {
    await current?.close()
    current = null
    return null
  },
}
