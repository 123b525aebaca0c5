import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import * as encoding from 'lib0/encoding'
import { logKey, metaKey, snapshotKey } from '../src/keys.js'
import { encodeLogRecord } from '@weft/server/store'
import { isSealed, openValue, resolveKeyring, sealedKeyId, sealValue } from '../src/value-cipher.js'

const keyA = { id: 'a', key: new Uint8Array(32).fill(1) }
const keyB = { id: 'key-b', key: new Uint8Array(32).fill(2) }
const plaintext = new TextEncoder().encode('the content of a value')
const key = snapshotKey('notes')

describe('sealValue / openValue', () => {
  it('writes the documented header and a fresh IV per value', () => {
    const keyring = resolveKeyring({ keys: [keyA] })
    const first = sealValue(keyring, key, plaintext)
    const second = sealValue(keyring, key, plaintext)
    // FF 00 magic, format 1, id length 1, 'a', then 12 IV bytes, 16 tag bytes, ciphertext.
    expect([...first.subarray(0, 5)]).toEqual([0xff, 0x00, 1, 1, 'a'.charCodeAt(0)])
    expect(first.length).toBe(5 + 12 + 16 + plaintext.length)
    expect(first.subarray(5, 17)).not.toEqual(second.subarray(5, 17))
    expect(sealedKeyId(first)).toBe('a')
    expect(openValue(keyring, key, first)).toEqual(plaintext)
  })

  it('seals with the last key and opens with any key given', () => {
    const old = sealValue(resolveKeyring({ keys: [keyA] }), key, plaintext)
    const both = resolveKeyring({ keys: [keyA, keyB] })
    expect(both.currentId).toBe('key-b')
    expect(sealedKeyId(sealValue(both, key, plaintext))).toBe('key-b')
    expect(openValue(both, key, old)).toEqual(plaintext)
  })

  it('refuses a value moved to another key, altered, or sealed with a key not given', () => {
    const keyring = resolveKeyring({ keys: [keyA] })
    const sealed = sealValue(keyring, logKey('notes', 3), plaintext)
    expect(() => openValue(keyring, logKey('notes', 4), sealed)).toThrow(
      expect.objectContaining({
        code: 'DECRYPTION_FAILED',
        message: expect.stringContaining('log record 4 of document "notes"'),
      }),
    )
    expect(() => openValue(keyring, logKey('other', 3), sealed)).toThrow(
      expect.objectContaining({ code: 'DECRYPTION_FAILED' }),
    )
    const altered = sealed.slice()
    altered[altered.length - 1]! ^= 1
    expect(() => openValue(keyring, logKey('notes', 3), altered)).toThrow(
      expect.objectContaining({
        message: expect.stringContaining('does not decrypt with key "a"'),
      }),
    )
    const onlyB = resolveKeyring({ keys: [keyB] })
    expect(() => openValue(onlyB, logKey('notes', 3), sealed)).toThrow(
      expect.objectContaining({ message: expect.stringContaining('key "a", which is not among') }),
    )
    expect(() => openValue(null, logKey('notes', 3), sealed)).toThrow(
      expect.objectContaining({ message: expect.stringContaining('opened without keys') }),
    )
    expect(() => openValue(keyring, key, sealed.subarray(0, 20))).toThrow(
      expect.objectContaining({ message: expect.stringContaining('truncated') }),
    )
  })

  it('passes plaintext values of the v1 layout through, however many clients a snapshot has', () => {
    const keyring = resolveKeyring({ keys: [keyA] })
    const record = encodeLogRecord([
      { update: plaintext, meta: { author: 'x', correlationId: '', receivedAtMs: 0 } },
    ])
    const meta = new TextEncoder().encode('{"compactedThrough":4}')
    // A Yjs v1 update starts with its client count as a lib0 varUint; from 255 clients on, that
    // can start with FF, the magic's first byte, but never with FF 00.
    const varUint = (value: number): Uint8Array =>
      encoding.encode((encoder) => encoding.writeVarUint(encoder, value))
    const startingWithFF = Array.from({ length: 100_000 }, (_, high) => varUint(255 + 128 * high))
    expect(startingWithFF.every((count) => count[0] === 0xff)).toBe(true)
    expect(startingWithFF.filter((count) => count[1] === 0)).toEqual([])
    const snapshot = new Uint8Array([...varUint(255), 1, 2, 3])
    for (const [at, value] of [
      [logKey('d', 1), record],
      [metaKey('d'), meta],
      [snapshotKey('d'), snapshot],
      [snapshotKey('d'), new Uint8Array([0, 0])],
    ] as const) {
      expect(isSealed(value)).toBe(false)
      expect(openValue(keyring, at, value)).toBe(value)
      expect(openValue(null, at, value)).toBe(value)
    }
  })
})

describe('resolveKeyring', () => {
  it.each([
    [{ keys: [] }, 'non-empty array'],
    [{}, 'non-empty array'],
    [{ keys: [{ id: '', key: randomBytes(32) }] }, 'keys[0].id must be 1 to 255 printable ASCII'],
    [{ keys: [{ id: 'ü', key: randomBytes(32) }] }, 'keys[0].id'],
    [{ keys: [{ id: 'x'.repeat(256), key: randomBytes(32) }] }, 'keys[0].id'],
    [{ keys: [{ id: 'a', key: randomBytes(16) }] }, 'keys[0].key (id "a") must be 32 bytes'],
    [{ keys: [{ id: 'a', key: 'secret' }] }, 'not string'],
    [
      {
        keys: [
          { id: 'a', key: randomBytes(32) },
          { id: 'a', key: randomBytes(32) },
        ],
      },
      'keys[1].id "a" is used by an earlier key',
    ],
  ])('refuses %j with INVALID_ARGUMENT', (options, problem) => {
    expect(() => resolveKeyring(options as never)).toThrow(
      expect.objectContaining({
        code: 'INVALID_ARGUMENT',
        message: expect.stringContaining(problem),
      }),
    )
  })

  it('keeps its own copy of the key bytes', () => {
    const bytes = new Uint8Array(32).fill(9)
    const keyring = resolveKeyring({ keys: [{ id: 'k', key: bytes }] })
    const sealed = sealValue(keyring, key, plaintext)
    bytes.fill(0)
    expect(
      openValue(
        resolveKeyring({ keys: [{ id: 'k', key: new Uint8Array(32).fill(9) }] }),
        key,
        sealed,
      ),
    ).toEqual(plaintext)
    expect(openValue(keyring, key, sealed)).toEqual(plaintext)
  })
})
