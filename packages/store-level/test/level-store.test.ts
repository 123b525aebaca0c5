import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { LevelStore } from '../src/level-store.js'

const meta = { author: 'a', correlationId: '', receivedAtMs: 0 }
const update = (byte: number): Uint8Array => new Uint8Array([0, 0, byte])

let path: string
beforeEach(async () => {
  path = await mkdtemp(join(tmpdir(), 'weft-level-unit-'))
})
afterEach(async () => {
  await rm(path, { recursive: true, force: true })
})

describe('LevelStore', () => {
  it('commits appends from many documents made in one turn as one synced batch', async () => {
    const store = await LevelStore.open({ path })
    try {
      const before = store.commitGroups
      await Promise.all(
        Array.from({ length: 20 }, (_, index) =>
          store.append(`doc-${index}`, [{ update: update(index), meta }]),
        ),
      )
      expect(store.commitGroups - before).toBe(1)
      // While one group is being written, later appends wait and then share the next group.
      const first = store.append('doc-0', [{ update: update(1), meta }])
      await new Promise((resolve) => setImmediate(resolve))
      const later = Array.from({ length: 10 }, (_, index) =>
        store.append(`doc-${index}`, [{ update: update(2), meta }]),
      )
      await Promise.all([first, ...later])
      expect(store.commitGroups - before).toBe(3)
    } finally {
      await store.close()
    }
  })

  it('refuses a directory that another store holds open, with a coded error', async () => {
    const store = await LevelStore.open({ path })
    try {
      await expect(LevelStore.open({ path })).rejects.toMatchObject({
        code: 'STORAGE_FAILED',
        message: expect.stringContaining('another relay'),
      })
    } finally {
      await store.close()
    }
  })

  it('refuses data written in another key layout', async () => {
    const db = new Level<string, string>(path)
    await db.put('v1:format', 'something-else')
    await db.close()
    await expect(LevelStore.open({ path })).rejects.toMatchObject({
      code: 'STORAGE_FAILED',
      message: expect.stringContaining('layout'),
    })
  })

  it('rejects an empty path with INVALID_ARGUMENT', async () => {
    await expect(LevelStore.open({ path: '' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
  })

  it('keeps log keys in sequence order past nine digits', async () => {
    const store = await LevelStore.open({ path })
    try {
      for (let index = 0; index < 12; index++)
        await store.append('doc', [{ update: update(index), meta }])
      const loaded = await store.load('doc')
      expect(loaded.updates.map((bytes) => bytes[2])).toEqual([...Array(12).keys()])
    } finally {
      await store.close()
    }
  })
})
