/** Loads the golden wire fixtures (test/fixtures/messages.json) as typed messages and bytes. */
import { MESSAGE_SPECS, type FieldKind, type MessageType, type WeftMessage } from '../src/index.js'
import raw from './fixtures/messages.json' with { type: 'json' }

/** One golden fixture: a message and the exact frame it encodes to. */
export interface GoldenFixture {
  readonly name: string
  /** Which edge case the fixture pins. */
  readonly note: string
  readonly message: WeftMessage
  /** The frame, as lowercase hex. */
  readonly hex: string
}

/** Lowercase hex of some bytes, e.g. `0c8001`. */
export const toHex = (bytes: Uint8Array): string =>
  Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('')

/** The bytes of a hex string; throws on odd length or non-hex characters. */
export const fromHex = (hex: string): Uint8Array => {
  if (!/^(?:[0-9a-f]{2})*$/.test(hex)) throw new Error(`not a hex string: ${hex}`)
  return Uint8Array.from(hex.match(/../g) ?? [], (pair) => parseInt(pair, 16))
}

/** A fixture field as the codec sees it: hex becomes bytes, for `bytes` and each `bytes-list` item. */
const fieldValue = (kind: FieldKind, value: unknown): unknown => {
  if (kind === 'bytes') return fromHex(value as string)
  if (kind === 'bytes-list') return (value as string[]).map(fromHex)
  return value
}

// The JSON spells byte fields as hex; the field kinds in MESSAGE_SPECS say which ones those are.
const toMessage = (json: Record<string, unknown>): WeftMessage => {
  const type = json['type'] as MessageType
  const message: Record<string, unknown> = { type }
  for (const [field, kind] of MESSAGE_SPECS[type].fields) {
    message[field as string] = fieldValue(kind, json[field as string])
  }
  return message as unknown as WeftMessage
}

/** Every golden fixture, in file order. */
export const fixtures: readonly GoldenFixture[] = raw.map((entry) => ({
  name: entry.name,
  note: entry.note,
  message: toMessage(entry.message),
  hex: entry.hex,
}))
