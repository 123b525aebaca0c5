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

/** Opens document `name` at `url` with a `kind` client. */
export const openDoc = (kind: ClientKind, url: string, name: string): BenchDoc =>
  KINDS[kind](url, name)

/** The shared text every workload edits. */
export const TEXT_NAME = 'text'
