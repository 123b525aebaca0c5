import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { LevelLocalStore } from '../src/level-local-store.js'

const update = (byte: number): Uint8Array => new Uint8Array([0, 0, byte])

let location: string
beforeEach(async () => {
  location = await mkdtemp(join(tmpdir(), 'weft-local-level-unit-'))
})
afterEach(async () => {
  await rm(location, { recursive: true, force: true })
})

/** Every key and value in the database at `location`, values as text. */
const dump = async (): Promise<Record<string, string>> => {
  const db = new Level<string, string>(location)
  try {
    return Object.fromEntries(await db.iterator().all())
  } finally {
    await db.close()
  }
}

describe('LevelLocalStore', () => {
  it('refuses a location another store holds open, saying what to do', async () => {
    const store = await LevelLocalStore.open({ location })
    try {
      await expect(LevelLocalStore.open({ location })).rejects.toMatchObject({
        code: 'STORAGE_FAILED',
        message: expect.stringContaining('Close the other store first'),
      })
      // The first store is unaffected.
      await store.write('doc', { updates: [update(1)] })
      expect((await store.load('doc')).updates).toEqual([update(1)])
    } finally {
      await store.close()
    }
  })

  it('refuses data written in another key layout, and data without a marker', async () => {
    const db = new Level<string, string>(location)
    await db.put('v1:format', 'weft-level-1')
    await db.close()
    await expect(LevelLocalStore.open({ location })).rejects.toMatchObject({
      code: 'STORAGE_FAILED',
      message: expect.stringContaining('layout "weft-level-1"'),
    })
    const other = new Level<string, string>(location)
    await other.del('v1:format')
    await other.put('somebody', 'else')
    await other.close()
    await expect(LevelLocalStore.open({ location })).rejects.toMatchObject({
      code: 'STORAGE_FAILED',
      message: expect.stringContaining('not a Weft local store'),
    })
    // The failed opens released the directory.
    const again = new Level<string, string>(location)
    await again.open()
    await again.close()
  })

  it('rejects bad options with INVALID_ARGUMENT', async () => {
    await expect(LevelLocalStore.open({ location: '' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('options.location'),
    })
    await expect(
      LevelLocalStore.open({ location, sync: 'yes' as unknown as boolean }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('sync') })
  })

  it('rejects an outbox ref that is not a non-negative integer, writing nothing', async () => {
    const store = await LevelLocalStore.open({ location })
    try {
      for (const ref of [-1, 1.5, Number.NaN]) {
        await expect(
          store.write('doc', { updates: [update(1)], outboxAdd: [{ ref, update: update(2) }] }),
        ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
      }
      expect(await store.load('doc')).toEqual({
        snapshot: null,
        updates: [],
        outbox: [],
        lastRef: 0,
      })
    } finally {
      await store.close()
    }
  })

  it('keeps log and outbox keys in numeric order past nine', async () => {
    const store = await LevelLocalStore.open({ location, sync: false })
    try {
      for (let index = 0; index < 12; index++) {
        await store.write('doc', {
          updates: [update(index)],
          outboxAdd: [{ ref: 12 - index, update: update(12 - index) }],
        })
      }
      const loaded = await store.load('doc')
      expect(loaded.updates.map((bytes) => bytes[2])).toEqual([...Array(12).keys()])
      expect(loaded.outbox.map(({ ref }) => ref)).toEqual([...Array(12).keys()].map((n) => n + 1))
    } finally {
      await store.close()
    }
  })

  it('writes again after clear, from a fresh log', async () => {
    const store = await LevelLocalStore.open({ location })
    try {
      await store.write('doc', {
        updates: [update(1), update(2)],
        outboxAdd: [{ ref: 4, update: update(4) }],
      })
      await store.compact('doc', update(9))
      await store.write('doc', { updates: [update(3)] })
      await store.clear('doc')
      await store.write('doc', { updates: [update(5)], outboxAdd: [{ ref: 1, update: update(1) }] })
      expect(await store.load('doc')).toEqual({
        snapshot: null,
        updates: [update(5)],
        outbox: [{ ref: 1, update: update(1) }],
        lastRef: 1,
      })
    } finally {
      await store.close()
    }
    expect(Object.keys(await dump()).sort()).toEqual([
      'v1:doc:doc:log:0000000000000001',
      'v1:doc:doc:meta',
      'v1:doc:doc:outbox:0000000000000001',
      'v1:format',
    ])
  })

  it('uses the documented key layout', async () => {
    const store = await LevelLocalStore.open({ location })
    await store.write('a:b/ü', {
      updates: [update(1), update(2)],
      outboxAdd: [{ ref: 7, update: update(7) }],
    })
    await store.write('a:b/ü', { outboxRemove: [7] })
    await store.compact('a:b/ü', update(3))
    await store.write('a:b/ü', { updates: [update(4)] })
    await store.close()
    const prefix = 'v1:doc:a%3Ab%2F%C3%BC:'
    const stored = await dump()
    expect(Object.keys(stored).sort()).toEqual([
      `${prefix}log:0000000000000003`,
      `${prefix}meta`,
      `${prefix}snapshot`,
      'v1:format',
    ])
    expect(stored['v1:format']).toBe('weft-local-level-1')
    expect(JSON.parse(stored[`${prefix}meta`]!)).toEqual({ lastRef: 7, nextSeq: 4 })
  })

  it('rejects calls after close with CLOSED, and close twice is harmless', async () => {
    const store = await LevelLocalStore.open({ location })
    await store.close()
    await store.close()
    await expect(store.load('doc')).rejects.toMatchObject({ code: 'CLOSED' })
    await expect(store.clear('doc')).rejects.toMatchObject({ code: 'CLOSED' })
  })
})
