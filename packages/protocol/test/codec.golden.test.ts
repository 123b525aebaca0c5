import { describe, expect, it } from 'vitest'
import {
  decodeMessage,
  encodeMessage,
  MESSAGE_SPECS,
  MESSAGE_TYPES_BY_TAG,
  type MessageType,
} from '../src/index.js'
import { fixtures, fromHex, toHex } from './golden-fixtures.js'

const messageTypes = Object.keys(MESSAGE_SPECS) as MessageType[]

describe('golden wire fixtures', () => {
  it.each(fixtures)('encodes $name to its fixture bytes', ({ message, hex }) => {
    expect(toHex(encodeMessage(message))).toBe(hex)
  })

  it.each(fixtures)('decodes the fixture bytes of $name to its message', ({ message, hex }) => {
    expect(decodeMessage(fromHex(hex))).toStrictEqual(message)
  })

  it('has at least one fixture for every message type in MESSAGE_SPECS', () => {
    const covered = new Set(fixtures.map((fixture) => fixture.message.type))
    expect(messageTypes.filter((type) => !covered.has(type))).toEqual([])
  })

  it('has unique fixture names and unique frames', () => {
    expect(new Set(fixtures.map((fixture) => fixture.name)).size).toBe(fixtures.length)
    expect(new Set(fixtures.map((fixture) => fixture.hex)).size).toBe(fixtures.length)
  })

  it('starts every frame with the tag of its message type', () => {
    for (const { message, hex } of fixtures) {
      expect(fromHex(hex)[0]).toBe(MESSAGE_SPECS[message.type].tag)
    }
  })
})

describe('message tags', () => {
  it('gives every message type its own tag', () => {
    const tags = messageTypes.map((type) => MESSAGE_SPECS[type].tag)
    expect(new Set(tags).size).toBe(tags.length)
  })

  it('maps every tag back to its message type', () => {
    expect(MESSAGE_TYPES_BY_TAG.size).toBe(messageTypes.length)
    for (const type of messageTypes) {
      expect(MESSAGE_TYPES_BY_TAG.get(MESSAGE_SPECS[type].tag)).toBe(type)
    }
  })

  it('keeps the tags of versions 1 to 4', () => {
    // Tags are wire format: changing one breaks every deployed peer.
    expect(Object.fromEntries(messageTypes.map((type) => [type, MESSAGE_SPECS[type].tag]))).toEqual(
      {
        hello: 0,
        welcome: 1,
        open: 2,
        close: 3,
        'sync-step-1': 4,
        'sync-step-2': 5,
        update: 6,
        awareness: 7,
        saved: 8,
        rejected: 9,
        error: 10,
        'refresh-token': 11,
        ping: 12,
        pong: 13,
        updates: 14,
        compressed: 15,
        chunk: 16,
        resume: 17,
        traced: 18,
      },
    )
  })
})
