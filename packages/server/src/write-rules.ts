/**
 * Write rules: what a session's scope, the document's schema and its record rules let a writer
 * change, decided before applying.
 */
import {
  decodeUpdates,
  inspectContentWrites,
  inspectRecordWrites,
  inspectWrite,
  type AnySchema,
  type QueuedItems,
  type RecordWriteInspection,
} from '@weft/doc'
import { WeftError } from '@weft/protocol'
import * as Y from 'yjs'
import type { DocAccess, Identity } from './auth.js'
import { recordWriteDenied, type RecordRules, type RecordWriter } from './record-rules.js'

/** What a document's writes must obey besides scopes: its schema and its record rules. */
export interface WritePolicy {
  readonly schema: AnySchema
  readonly rules: RecordRules | null
}

/** What a room has queued besides its document: see {@link WriteTarget.queuedContent}. */
export interface QueuedContent {
  /** The document as applied so far, without the queue. */
  readonly doc: Y.Doc
  /** The items of the writes queued since, all content writes (see `inspectContentWrites`). */
  readonly items: QueuedItems
}

/** The document a write goes to: its content so far and its policy. */
export interface WriteTarget {
  /** Getting it applies what the room has queued: asked for only when needed. */
  readonly doc: Y.Doc
  readonly writePolicy: WritePolicy | null
  /**
   * The document without its queue, and the queued items, while everything queued writes only
   * text or list content: a write that does too is judged without applying the queue first.
   * `null` otherwise. Targets that never queue leave it out.
   */
  readonly queuedContent?: () => QueuedContent | null
  /** A write judged with the queue applied was accepted: the queue now holds other writes. */
  readonly queuedOther?: () => void
  /** Updates were judged in `seconds` (for the relay's metrics); called only when judged. */
  readonly checked?: (seconds: number) => void
}

/** Access to everything (in-process services without a token's scope). */
export const FULL_ACCESS: DocAccess = { read: true, write: true, types: null }

/**
 * The writer the record rules judge, for a session: its verified token's subject and roles.
 * `null` (rules are not applied) without one: in open mode (`owner` is `null`) or before login.
 */
export const recordWriterOf = (session: {
  readonly owner: string | null
  readonly identity: Identity | null
}): RecordWriter | null => {
  const { identity } = session
  if (session.owner === null || identity === null) return null
  return { subject: identity.subject, roles: identity.roles ?? [] }
}

/**
 * Why `updates` may not be applied to `target` for a session with `access` (and, for the record
 * rules, `writer`), or `undefined` when they may. The updates of one message are judged together
 * and refused whole. The room's document is asked for only when something must be checked:
 * getting it applies what the room has queued, which a session that may write everything to a
 * document without a schema must not force on every message (its updates are applied together
 * at the end of the tick). Read-only sessions may send what changes nothing (a sync step 2 of
 * content the document has); sessions limited to root types may change only those; a document
 * with a schema takes only what fits it (`SCHEMA_VIOLATION`) and what its record rules allow
 * (`FORBIDDEN`). Malformed updates pass here: the room refuses them as `BAD_UPDATE`.
 */
export const writeDenied = (
  access: DocAccess,
  target: WriteTarget,
  updates: readonly Uint8Array[],
  writer: RecordWriter | null = null,
): WeftError | undefined => {
  if (access.write && access.types === null && target.writePolicy === null) return undefined
  if (target.checked === undefined) return judgeWrite(access, target, updates, writer)
  const startMs = performance.now()
  const denied = judgeWrite(access, target, updates, writer)
  target.checked((performance.now() - startMs) / 1000)
  return denied
}

/** {@link writeDenied} for updates that must be judged. */
const judgeWrite = (
  access: DocAccess,
  target: WriteTarget,
  updates: readonly Uint8Array[],
  writer: RecordWriter | null = null,
): WeftError | undefined => {
  const policy = target.writePolicy
  let decoded: ReturnType<typeof Y.decodeUpdate>
  try {
    decoded = decodeUpdates(updates)
  } catch {
    return undefined
  }
  if (policy !== null && access.write && access.types === null) {
    // The common case, typing into a text field: judged against the document and what the room
    // queued this tick, without applying the queue for each message.
    const queued = target.queuedContent?.() ?? null
    const inspection =
      queued === null
        ? null
        : inspected(() => inspectContentWrites(queued.doc, decoded, policy.schema, queued.items))
    if (queued !== null && inspection !== null) {
      const denied = judged(policy, inspection, writer)
      if (denied === undefined) queued.items.add(decoded)
      return denied
    }
  }
  const doc = target.doc
  if (!access.write || access.types !== null) {
    const denied = scopeDenied(access, doc, decoded)
    if (denied !== undefined) return denied
  }
  if (policy === null) return undefined
  const inspection = inspected(() => inspectRecordWrites(doc, decoded, policy.schema))
  const denied = judged(policy, inspection, writer)
  if (denied === undefined) target.queuedOther?.()
  return denied
}

const scopeDenied = (
  access: DocAccess,
  doc: Y.Doc,
  decoded: ReturnType<typeof Y.decodeUpdate>,
): WeftError | undefined => {
  const inspection = inspectWrite(doc, decoded)
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

/** An inspection's result, or the error it threw (an update it could not decode as a write). */
const inspected = <T extends RecordWriteInspection | null>(inspect: () => T): T | WeftError => {
  try {
    return inspect()
  } catch (cause) {
    return new WeftError('BAD_UPDATE', 'the update could not be checked against the schema', {
      cause,
    })
  }
}

/** What the schema and the record rules say of an inspected write. */
const judged = (
  policy: WritePolicy,
  inspection: RecordWriteInspection | WeftError,
  writer: RecordWriter | null,
): WeftError | undefined => {
  if (inspection instanceof WeftError) return inspection
  if (!inspection.ok) {
    return new WeftError('SCHEMA_VIOLATION', `${inspection.violation.problem}; nothing was applied`)
  }
  if (policy.rules === null || writer === null) return undefined
  for (const write of inspection.records) {
    const denied = recordWriteDenied(policy.rules, write, writer)
    if (denied !== undefined) return denied
  }
  return undefined
}
