import { describe, expect, it } from 'vitest'
import { encryptLocalStore, type LocalStoreKey } from '../src/encrypted-local-store.js'
import type { LocalDoc, LocalStore, OutboxRecord } from '../src/local-store.js'
import { MemoryLocalStore } from '../src/memory-local-store.js'

const keyA: LocalStoreKey = { id: 'a', key: new Uint8Array(32).fill(1) }
const keyB: LocalStoreKey = { id: 'b', key: new Uint8Array(32).fill(2) }

/** A byte pattern that must never show up in what the inner store holds. */
const MARKER = new TextEncoder().encode('PLAINTEXT-MARKER-0123456789')
const bytes = (label: string): Uint8Array =>
  new TextEncoder().encode(`${label}:PLAINTEXT-MARKER-0123456789`)

const contains = (haystack: Uint8Array, needle: Uint8Array): boolean => {
  outer: for (let start = 0; start + needle.length <= haystack.length; start++) {
    for (let offset = 0; offset < needle.length; offset++)
      if (haystack[start + offset] !== needle[offset]) continue outer
    return true
  }
  return false
}

/** Every value the inner store holds for `doc`. */
const storedValues = async (inner: LocalStore, doc: string): Promise<Uint8Array[]> => {
  const loaded = await inner.load(doc)
  return [
    ...(loaded.snapshot === null ? [] : [loaded.snapshot]),
    ...loaded.updates,
    ...loaded.outbox.map(({ update }) => update),
  ]
}

describe('encryptLocalStore', () => {
  it('stores no value in clear and reads every value back', async () => {
    const inner = new MemoryLocalStore()
    const store = encryptLocalStore(inner, { keys: [keyA] })
    await store.write('doc', {
      updates: [bytes('update-1'), bytes('update-2')],
      outboxAdd: [{ ref: 1, update: bytes('outbox-1') }],
    })
    await store.compact('doc', bytes('snapshot'))
    await store.write('doc', { updates: [bytes('update-3')] })
    const values = await storedValues(inner, 'doc')
    expect(values).toHaveLength(3)
    for (const value of values) expect(contains(value, MARKER)).toBe(false)
    expect(contains(bytes('x'), MARKER)).toBe(true)
    expect(await store.load('doc')).toEqual({
      snapshot: bytes('snapshot'),
      updates: [bytes('update-3')],
      outbox: [{ ref: 1, update: bytes('outbox-1') }],
      lastRef: 1,
    })
  })

  it('writes the documented format: version 2, key id, 12-byte IV, ciphertext and tag', async () => {
    const inner = new MemoryLocalStore()
    const store = encryptLocalStore(inner, { keys: [keyA] })
    const plaintext = bytes('format')
    await store.write('doc', { updates: [plaintext, plaintext] })
    const [first, second] = (await inner.load('doc')).updates
    // 1 version byte, varUint length 1 + 'a', 12 IV bytes, plaintext-sized ciphertext, 16 tag bytes.
    expect([...first!.subarray(0, 3)]).toEqual([2, 1, 'a'.charCodeAt(0)])
    expect(first!.length).toBe(3 + 12 + plaintext.length + 16)
    // A fresh IV per value: the same plaintext never encrypts to the same bytes.
    expect(first!.subarray(3, 15)).not.toEqual(second!.subarray(3, 15))
    expect(first).not.toEqual(second)
  })

  it('accepts a WebCrypto key as well as raw bytes', async () => {
    const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, [
      'encrypt',
      'decrypt',
    ])
    const inner = new MemoryLocalStore()
    await encryptLocalStore(inner, { keys: [{ id: 'k', key }] }).write('doc', {
      updates: [bytes('u')],
    })
    expect(
      (await encryptLocalStore(inner, { keys: [{ id: 'k', key }] }).load('doc')).updates,
    ).toEqual([bytes('u')])
    await expect(
      encryptLocalStore(inner, { keys: [{ id: 'k', key: keyA.key }] }).load('doc'),
    ).rejects.toMatchObject({
      code: 'DECRYPTION_FAILED',
    })
  })

  describe('refuses to return data it cannot authenticate, with DECRYPTION_FAILED', () => {
    it('with a wrong key under the same id', async () => {
      const inner = new MemoryLocalStore()
      await encryptLocalStore(inner, { keys: [keyA] }).write('doc', { updates: [bytes('u')] })
      const wrong = encryptLocalStore(inner, { keys: [{ id: 'a', key: keyB.key }] })
      await expect(wrong.load('doc')).rejects.toMatchObject({ code: 'DECRYPTION_FAILED' })
    })

    it('with an unknown key id, naming it', async () => {
      const inner = new MemoryLocalStore()
      await encryptLocalStore(inner, { keys: [keyA] }).write('doc', {
        outboxAdd: [{ ref: 1, update: bytes('o') }],
      })
      await expect(encryptLocalStore(inner, { keys: [keyB] }).load('doc')).rejects.toMatchObject({
        code: 'DECRYPTION_FAILED',
        message: expect.stringContaining('"a"'),
      })
    })

    it('when a value is moved to another document', async () => {
      const inner = new MemoryLocalStore()
      const store = encryptLocalStore(inner, { keys: [keyA] })
      await store.write('alice', { updates: [bytes('alice')] })
      await inner.write('bob', { updates: (await inner.load('alice')).updates })
      expect((await store.load('alice')).updates).toEqual([bytes('alice')])
      await expect(store.load('bob')).rejects.toMatchObject({ code: 'DECRYPTION_FAILED' })
    })

    it.each([
      [
        'an update replayed as the snapshot',
        (sealed: LocalDoc) => ({ snapshot: sealed.updates[0]! }),
      ],
      [
        'an update turned into an outbox record',
        (sealed: LocalDoc) => ({ outbox: { ref: 3, update: sealed.updates[0]! } }),
      ],
      [
        'an outbox record replayed as the snapshot',
        (sealed: LocalDoc) => ({ snapshot: sealed.outbox[0]!.update }),
      ],
    ])('when a value is moved to another role: %s', async (_, move) => {
      const inner = new MemoryLocalStore()
      const store = encryptLocalStore(inner, { keys: [keyA] })
      await store.write('doc', {
        updates: [bytes('u')],
        outboxAdd: [{ ref: 1, update: bytes('o') }],
      })
      const { snapshot, update, outbox } = move(await inner.load('doc')) as {
        snapshot?: Uint8Array
        update?: Uint8Array
        outbox?: OutboxRecord
      }
      expect((await store.load('doc')).outbox).toHaveLength(1)
      if (snapshot !== undefined) await inner.compact('doc', snapshot)
      if (update !== undefined) await inner.write('doc', { updates: [update] })
      if (outbox !== undefined) await inner.write('doc', { outboxAdd: [outbox] })
      await expect(store.load('doc')).rejects.toMatchObject({ code: 'DECRYPTION_FAILED' })
    })

    it('when a byte of a value is altered, or the value is truncated', async () => {
      const inner = new MemoryLocalStore()
      const store = encryptLocalStore(inner, { keys: [keyA] })
      await store.compact('doc', bytes('snapshot'))
      const sealed = (await inner.load('doc')).snapshot!
      for (const index of [0, 2, 5, sealed.length - 1]) {
        const altered = sealed.slice()
        altered[index]! ^= 1
        await inner.compact('doc', altered)
        await expect(store.load('doc'), `byte ${index}`).rejects.toMatchObject({
          code: 'DECRYPTION_FAILED',
        })
      }
      for (const length of [0, 1, 2, 20]) {
        await inner.compact('doc', sealed.slice(0, length))
        await expect(store.load('doc'), `length ${length}`).rejects.toMatchObject({
          code: 'DECRYPTION_FAILED',
        })
      }
    })
  })

  it('reads the moves a multi-writer store makes: snapshot and outbox values among the updates, outbox records renumbered', async () => {
    const inner = new MemoryLocalStore()
    const store = encryptLocalStore(inner, { keys: [keyA] })
    await store.write('doc', { updates: [bytes('u')], outboxAdd: [{ ref: 1, update: bytes('o') }] })
    await store.compact('doc', bytes('s'))
    const sealed = await inner.load('doc')
    // What a LevelLocalStore does when it reads or adopts another writer's namespace.
    const moved = new MemoryLocalStore()
    await moved.compact('doc', sealed.snapshot!)
    await moved.write('doc', {
      updates: [sealed.snapshot!, sealed.outbox[0]!.update],
      outboxAdd: [{ ref: 7, update: sealed.outbox[0]!.update }],
    })
    expect(await encryptLocalStore(moved, { keys: [keyA] }).load('doc')).toEqual({
      snapshot: bytes('s'),
      updates: [bytes('s'), bytes('o')],
      outbox: [{ ref: 7, update: bytes('o') }],
      lastRef: 7,
    })
  })

  it('reads values sealed in format 1, whose outbox values are bound to their ref', async () => {
    const sealV1 = async (aad: string, plaintext: Uint8Array): Promise<Uint8Array> => {
      const key = await crypto.subtle.importKey(
        'raw',
        keyA.key as Uint8Array<ArrayBuffer>,
        'AES-GCM',
        false,
        ['encrypt'],
      )
      const iv = crypto.getRandomValues(new Uint8Array(12))
      const additionalData = new TextEncoder().encode(aad)
      const ciphertext = await crypto.subtle.encrypt(
        { name: 'AES-GCM', iv, additionalData },
        key,
        plaintext as Uint8Array<ArrayBuffer>,
      )
      const value = new Uint8Array(3 + 12 + ciphertext.byteLength)
      value.set([1, 1, 'a'.charCodeAt(0)])
      value.set(iv, 3)
      value.set(new Uint8Array(ciphertext), 15)
      return value
    }
    const inner = new MemoryLocalStore()
    await inner.compact('a b', await sealV1('weft:a%20b:snapshot', bytes('s')))
    await inner.write('a b', {
      // A format-1 snapshot among the updates: a v1 namespace adopted by a LevelLocalStore.
      updates: [
        await sealV1('weft:a%20b:update', bytes('u')),
        await sealV1('weft:a%20b:snapshot', bytes('s2')),
      ],
      outboxAdd: [{ ref: 3, update: await sealV1('weft:a%20b:outbox:3', bytes('o')) }],
    })
    const store = encryptLocalStore(inner, { keys: [keyA] })
    expect(await store.load('a b')).toEqual({
      snapshot: bytes('s'),
      updates: [bytes('u'), bytes('s2')],
      outbox: [{ ref: 3, update: bytes('o') }],
      lastRef: 3,
    })
    await inner.write('a b', {
      outboxAdd: [{ ref: 4, update: await sealV1('weft:a%20b:outbox:3', bytes('o')) }],
    })
    await expect(store.load('a b')).rejects.toMatchObject({ code: 'DECRYPTION_FAILED' })
  })

  it('rotates keys: old values read with the old key kept, compaction re-encrypts', async () => {
    const inner = new MemoryLocalStore()
    const withA = encryptLocalStore(inner, { keys: [keyA] })
    await withA.write('doc', {
      updates: [bytes('u1'), bytes('u2')],
      outboxAdd: [{ ref: 1, update: bytes('o1') }],
    })
    await withA.write('doc', { outboxRemove: [1] })
    await withA.write('pending', { outboxAdd: [{ ref: 1, update: bytes('o1') }] })

    const withAB = encryptLocalStore(inner, { keys: [keyA, keyB] })
    const loaded = await withAB.load('doc')
    expect(loaded.updates).toEqual([bytes('u1'), bytes('u2')])
    await withAB.write('doc', { updates: [bytes('u3')] })
    await withAB.compact('doc', bytes('snapshot of u1 u2 u3'))
    for (const value of await storedValues(inner, 'doc')) expect(value[2]).toBe('b'.charCodeAt(0))

    const withB = encryptLocalStore(inner, { keys: [keyB] })
    expect(await withB.load('doc')).toEqual({
      snapshot: bytes('snapshot of u1 u2 u3'),
      updates: [],
      outbox: [],
      lastRef: 1,
    })
    // The outbox is not rewritten by compaction: an edit still waiting needs the old key.
    await expect(withB.load('pending')).rejects.toMatchObject({ code: 'DECRYPTION_FAILED' })
    expect((await withAB.load('pending')).outbox).toEqual([{ ref: 1, update: bytes('o1') }])
  })

  it('keeps its own copy of raw keys, so wiping the caller buffer changes nothing', async () => {
    const inner = new MemoryLocalStore()
    const raw = new Uint8Array(32).fill(5)
    const store = encryptLocalStore(inner, { keys: [{ id: 'k', key: raw }] })
    raw.fill(0)
    await store.write('doc', { updates: [bytes('u')] })
    const again = encryptLocalStore(inner, { keys: [{ id: 'k', key: new Uint8Array(32).fill(5) }] })
    expect((await again.load('doc')).updates).toEqual([bytes('u')])
  })

  it('rejects calls after close with CLOSED', async () => {
    const store = encryptLocalStore(new MemoryLocalStore(), { keys: [keyA] })
    await store.close()
    await expect(store.load('doc')).rejects.toMatchObject({ code: 'CLOSED' })
    await expect(store.write('doc', { updates: [bytes('u')] })).rejects.toMatchObject({
      code: 'CLOSED',
    })
  })

  describe('validates its options at once, naming the bad one', () => {
    const inner = new MemoryLocalStore()
    const cases: Array<[string, unknown, string]> = [
      ['no options', undefined, 'options.keys'],
      ['no keys', { keys: [] }, 'options.keys'],
      ['keys not an array', { keys: keyA }, 'options.keys'],
      ['an empty id', { keys: [{ id: '', key: keyA.key }] }, 'options.keys[0].id'],
      ['a duplicate id', { keys: [keyA, { id: 'a', key: keyB.key }] }, 'options.keys[1].id'],
      ['a 16-byte key', { keys: [{ id: 'k', key: new Uint8Array(16) }] }, 'options.keys[0].key'],
      [
        'a 33-byte key',
        { keys: [keyA, { id: 'k', key: new Uint8Array(33) }] },
        'options.keys[1].key',
      ],
      ['a string key', { keys: [{ id: 'k', key: 'secret' }] }, 'options.keys[0].key'],
    ]
    it.each(cases)('%s', (_, options, named) => {
      expect(() => encryptLocalStore(inner, options as never)).toThrow(
        expect.objectContaining({
          code: 'INVALID_ARGUMENT',
          message: expect.stringContaining(named),
        }),
      )
    })

    it('a CryptoKey for another algorithm, size or usage', async () => {
      const cbc = await crypto.subtle.generateKey({ name: 'AES-CBC', length: 256 }, false, [
        'encrypt',
        'decrypt',
      ])
      const short = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 128 }, false, [
        'encrypt',
        'decrypt',
      ])
      const decryptOnly = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, [
        'decrypt',
      ])
      for (const key of [cbc, short, decryptOnly]) {
        expect(() => encryptLocalStore(inner, { keys: [{ id: 'k', key }] })).toThrow(
          expect.objectContaining({
            code: 'INVALID_ARGUMENT',
            message: expect.stringContaining('options.keys[0].key'),
          }),
        )
      }
      // A decrypt-only key is fine as an old key.
      expect(() =>
        encryptLocalStore(inner, { keys: [keyA, { id: 'old', key: decryptOnly }] }),
      ).not.toThrow()
    })
  })
})
