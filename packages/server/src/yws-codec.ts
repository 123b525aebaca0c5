/** The y-websocket dialect's frames (y-protocols sync and awareness), decoded with coded errors. */
import { readCheckedVarBytes, readCheckedVarUint, WeftError } from '@weft/protocol'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'

const MESSAGE_SYNC = 0
const MESSAGE_AWARENESS = 1
const MESSAGE_QUERY_AWARENESS = 3
const SYNC_STEP_1 = 0
const SYNC_STEP_2 = 1
const SYNC_UPDATE = 2

/** A y-websocket message the relay understands. */
export type YwsMessage =
  | { type: 'sync-step-1'; stateVector: Uint8Array }
  | { type: 'sync-step-2'; update: Uint8Array }
  | { type: 'update'; update: Uint8Array }
  | { type: 'awareness'; update: Uint8Array }
  | { type: 'query-awareness' }

/**
 * Decodes one y-websocket frame. Malformed frames throw `BAD_MESSAGE`; message types a client
 * must not send (or that do not exist) throw `UNKNOWN_MESSAGE`.
 */
export const decodeYwsMessage = (frame: Uint8Array): YwsMessage => {
  const decoder = decoding.createDecoder(frame)
  const kind = readCheckedVarUint(decoder, 'message type')
  let message: YwsMessage
  if (kind === MESSAGE_SYNC) {
    const step = readCheckedVarUint(decoder, 'sync message type')
    const payload = readCheckedVarBytes(decoder, 'sync payload')
    if (step === SYNC_STEP_1) message = { type: 'sync-step-1', stateVector: payload }
    else if (step === SYNC_STEP_2) message = { type: 'sync-step-2', update: payload }
    else if (step === SYNC_UPDATE) message = { type: 'update', update: payload }
    else throw new WeftError('UNKNOWN_MESSAGE', `sync message type ${step} is unknown`)
  } else if (kind === MESSAGE_AWARENESS) {
    message = { type: 'awareness', update: readCheckedVarBytes(decoder, 'awareness update') }
  } else if (kind === MESSAGE_QUERY_AWARENESS) {
    message = { type: 'query-awareness' }
  } else {
    throw new WeftError('UNKNOWN_MESSAGE', `y-websocket message type ${kind} is not accepted`)
  }
  if (decoding.hasContent(decoder)) {
    throw new WeftError('BAD_MESSAGE', `${message.type} has trailing bytes`)
  }
  return message
}

const frame = (write: (encoder: encoding.Encoder) => void): Uint8Array => {
  const encoder = encoding.createEncoder()
  write(encoder)
  return encoding.toUint8Array(encoder)
}

/** Encodes a sync message (`step` 0 = step 1, 1 = step 2, 2 = update) around `payload`. */
export const encodeYwsSync = (
  type: 'sync-step-1' | 'sync-step-2' | 'update',
  payload: Uint8Array,
): Uint8Array =>
  frame((encoder) => {
    encoding.writeVarUint(encoder, MESSAGE_SYNC)
    const step =
      type === 'sync-step-1' ? SYNC_STEP_1 : type === 'sync-step-2' ? SYNC_STEP_2 : SYNC_UPDATE
    encoding.writeVarUint(encoder, step)
    encoding.writeVarUint8Array(encoder, payload)
  })

/** Encodes an awareness message around a y-protocols awareness update. */
export const encodeYwsAwareness = (update: Uint8Array): Uint8Array =>
  frame((encoder) => {
    encoding.writeVarUint(encoder, MESSAGE_AWARENESS)
    encoding.writeVarUint8Array(encoder, update)
  })
