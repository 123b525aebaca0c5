/** Write rules: what a session's scope lets it change in a document, decided before applying. */
import { inspectWrite } from '@weft/doc'
import { WeftError } from '@weft/protocol'
import * as Y from 'yjs'
import type { DocAccess } from './auth.js'

/**
 * Why `updates` may not be applied for a session with `access` to a document, or `undefined`
 * when they may. `doc` is asked for only when the access is limited: getting a room's document
 * applies what it has queued, which a session that may write everything must not force on every
 * message (its updates are applied together at the end of the tick). Read-only sessions may send what changes nothing (a sync step 2 of content the document
 * has); sessions limited to root types may change only those. Malformed updates pass here: the
 * room refuses them as `BAD_UPDATE`.
 */
export const writeDenied = (
  access: DocAccess,
  doc: () => Y.Doc,
  updates: readonly Uint8Array[],
): WeftError | undefined => {
  if (access.write && access.types === null) return undefined
  let decoded: ReturnType<typeof Y.decodeUpdate>
  try {
    const merged = updates.length === 1 ? (updates[0] as Uint8Array) : Y.mergeUpdates([...updates])
    decoded = Y.decodeUpdate(merged)
  } catch {
    return undefined
  }
  const inspection = inspectWrite(doc(), decoded)
  if (!inspection.changes) return undefined
  if (!access.write) return new WeftError('FORBIDDEN', 'this session may only read this document')
  const allowed = access.types as ReadonlySet<string>
  if (inspection.rootTypes === null) {
    return new WeftError(
      'FORBIDDEN',
      'the edit builds on content the relay does not have, so its root types cannot be checked',
    )
  }
  for (const type of inspection.rootTypes) {
    if (!allowed.has(type)) {
      return new WeftError('FORBIDDEN', `this session may not write root type "${type}"`)
    }
  }
  return undefined
}
