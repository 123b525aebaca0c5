/**
 * Protocol fuzzing against a running relay: valid Weft and y-websocket frames, mutated (truncated,
 * bit-flipped, varints inflated, bytes spliced) or replaced by random bytes, sent over real
 * sockets. A control socket measures how long the relay takes to answer a ping after each one.
 */
import { encodeMessage, PROTOCOL_VERSION, type WeftMessage } from '@weft/protocol'
import * as Y from 'yjs'
import { mulberry32 } from './fault-lane.js'
import { RawSocket } from './raw-socket.js'

/** Options of {@link runProtocolFuzz}. */
export interface ProtocolFuzzOptions {
  /** `ws://127.0.0.1:<port>` of the relay. */
  readonly url: string
  readonly seed: number
  readonly executions: number
  /** The document honest clients use; fuzzed frames target it too. */
  readonly doc: string
}

/** What the run saw. */
export interface ProtocolFuzzResult {
  readonly seed: number
  readonly executions: number
  /** Sockets the relay closed in answer to a fuzzed frame (expected: bad input closes them). */
  readonly closedSockets: number
  /** The slowest ping answer on the control socket right after a fuzzed frame (ms). */
  readonly worstResponseMs: number
}

type Random = () => number

const int = (random: Random, below: number): number => Math.floor(random() * below)

/** A valid frame of either dialect, built from random content. */
const validFrame = (random: Random, doc: string): { weft: boolean; frame: Uint8Array } => {
  const source = new Y.Doc()
  source.clientID = 1 + int(random, 1_000_000)
  source.getText('t').insert(0, 'x'.repeat(1 + int(random, 40)))
  if (random() < 0.5) source.getMap('m').set('k', random())
  const update = Y.encodeStateAsUpdate(source)
  if (random() < 0.3) {
    // y-websocket: sync step 2 / update, or awareness.
    const kind = int(random, 2)
    return {
      weft: false,
      frame: new Uint8Array([0, kind === 0 ? 1 : 2, ...varUint(update.length), ...update]),
    }
  }
  const messages: WeftMessage[] = [
    { type: 'update', doc, ref: 1 + int(random, 100), update },
    { type: 'updates', doc, ref: 1 + int(random, 100), updates: [update, update] },
    { type: 'open', doc, stateVector: Y.encodeStateVector(source) },
    { type: 'sync-step-1', doc, stateVector: Y.encodeStateVector(source) },
    { type: 'awareness', doc, update: new Uint8Array([1, 5, 1, 2, 123, 125]) },
    { type: 'ping', nonce: int(random, 1000) },
  ]
  return { weft: true, frame: encodeMessage(messages[int(random, messages.length)] as WeftMessage) }
}

const varUint = (value: number): number[] => {
  const bytes: number[] = []
  let rest = value
  while (rest > 0x7f) {
    bytes.push((rest & 0x7f) | 0x80)
    rest = Math.floor(rest / 128)
  }
  bytes.push(rest)
  return bytes
}

/** One mutation of `frame`. */
const mutate = (random: Random, frame: Uint8Array): Uint8Array => {
  const bytes = [...frame]
  switch (int(random, 5)) {
    case 0: // truncate
      return new Uint8Array(bytes.slice(0, int(random, bytes.length)))
    case 1: // flip bits
      for (let flips = 1 + int(random, 4); flips > 0; flips--) {
        const at = int(random, bytes.length)
        bytes[at] = (bytes[at] as number) ^ (1 << int(random, 8))
      }
      return new Uint8Array(bytes)
    case 2: // inflate a varint: insert continuation bytes
      bytes.splice(int(random, bytes.length), 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f)
      return new Uint8Array(bytes)
    case 3: // splice random bytes
      bytes.splice(
        int(random, bytes.length),
        0,
        ...Array.from({ length: 1 + int(random, 16) }, () => int(random, 256)),
      )
      return new Uint8Array(bytes)
    default: // random bytes altogether
      return new Uint8Array(Array.from({ length: int(random, 64) }, () => int(random, 256)))
  }
}

/** Sends `executions` fuzzed frames; resolves with what it saw (throws if the relay stops answering). */
export const runProtocolFuzz = async (
  options: ProtocolFuzzOptions,
): Promise<ProtocolFuzzResult> => {
  const random = mulberry32(options.seed)
  const control = await RawSocket.weft(options.url)
  let weftSocket: RawSocket | null = null
  let ywsSocket: RawSocket | null = null
  let closedSockets = 0
  let worstResponseMs = 0
  try {
    for (let execution = 0; execution < options.executions; execution++) {
      const { weft, frame } = validFrame(random, options.doc)
      const fuzzed = random() < 0.1 ? frame : mutate(random, frame)
      if (weft) {
        if (weftSocket === null || !weftSocket.open) {
          if (weftSocket !== null) closedSockets += 1
          weftSocket = await RawSocket.open(options.url, true)
          weftSocket.sendMessage({
            type: 'hello',
            minVersion: PROTOCOL_VERSION,
            maxVersion: PROTOCOL_VERSION,
            token: '',
            correlationId: 'fuzz',
            client: 'fuzz',
          })
          weftSocket.sendMessage({
            type: 'open',
            doc: options.doc,
            stateVector: new Uint8Array([0]),
          })
        }
        weftSocket.send(fuzzed)
      } else {
        if (ywsSocket === null || !ywsSocket.open) {
          if (ywsSocket !== null) closedSockets += 1
          ywsSocket = await RawSocket.open(
            `${options.url}/${encodeURIComponent(options.doc)}`,
            false,
          )
        }
        ywsSocket.send(fuzzed)
      }
      const started = performance.now()
      control.sendMessage({ type: 'ping', nonce: execution })
      await control.nextMessage(
        (message) => message.type === 'pong' && message.nonce === execution,
        10_000,
      )
      control.frames.length = 0
      worstResponseMs = Math.max(worstResponseMs, performance.now() - started)
    }
  } finally {
    weftSocket?.close()
    ywsSocket?.close()
    control.close()
  }
  return {
    seed: options.seed,
    executions: options.executions,
    closedSockets,
    worstResponseMs: Math.round(worstResponseMs * 10) / 10,
  }
}
