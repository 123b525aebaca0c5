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
    const newer = new Level<string, string>(location)
    await newer.put('v2:format', 'weft-local-level-3')
    await newer.close()
    await expect(LevelLocalStore.open({ location })).rejects.toMatchObject({
      code: 'STORAGE_FAILED',
      message: expect.stringContaining('layout "weft-local-level-3"'),
    })
    const other = new Level<string, string>(location)
    await other.del('v1:format')
    await other.del('v2:format')
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
    await expect(
      LevelLocalStore.open({ location, writer: 'shared' as unknown as 'tab' }),
    ).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('options.writer'),
    })
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

  it('runs overlapping calls for one document one at a time, losing no write', async () => {
    const store = await LevelLocalStore.open({ location, sync: false })
    try {
      await Promise.all(
        Array.from({ length: 20 }, (_, index) =>
          store.write('doc', {
            updates: [update(index)],
            outboxAdd: [{ ref: index + 1, update: update(index) }],
          }),
        ),
      )
      const loaded = await store.load('doc')
      expect(loaded.updates).toEqual(Array.from({ length: 20 }, (_, index) => update(index)))
      expect(loaded.outbox.map(({ ref }) => ref)).toEqual([...Array(20).keys()].map((n) => n + 1))
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

  it('rejects calls after close with CLOSED, and close twice is harmless', async () => {
    const store = await LevelLocalStore.open({ location })
    await store.close()
    await store.close()
    await expect(store.load('doc')).rejects.toMatchObject({ code: 'CLOSED' })
    await expect(store.clear('doc')).rejects.toMatchObject({ code: 'CLOSED' })
  })
})
