/** Opens a BenchDoc with the client library of a system. */
import type { ClientKind } from '../systems.js'
import type { BenchDoc, ClientKinds } from './bench-doc.js'
import { openHocuspocusDoc } from './clients/hocuspocus-doc.js'
import { openWeftDoc } from './clients/weft-doc.js'
import { openYwsDoc } from './clients/yws-doc.js'

const KINDS: ClientKinds = {
  weft: openWeftDoc,
  'y-websocket': openYwsDoc,
  hocuspocus: openHocuspocusDoc,
}

/**
 * Opens document `name` at `url` with a `kind` client; with `token` (a relay verifying tokens),
 * Weft's client only: the peers' clients are never given one here.
 */
export const openDoc = (kind: ClientKind, url: string, name: string, token?: string): BenchDoc => {
  if (token === undefined) return KINDS[kind](url, name)
  if (kind !== 'weft') throw new Error(`a token is sent by Weft's client only, not by ${kind}`)
  return openWeftDoc(url, name, token)
}

/** The shared text every workload edits. */
export const TEXT_NAME = 'text'
