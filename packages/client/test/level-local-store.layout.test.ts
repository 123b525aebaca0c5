import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { LevelLocalStore } from '../src/level-local-store.js'

const update = (byte: number): Uint8Array => new Uint8Array([0, 0, byte])
const text = (value: string): Uint8Array => new TextEncoder().encode(value)
const seq = (value: number): string => String(value).padStart(16, '0')

let location: string
beforeEach(async () => {
  location = await mkdtemp(join(tmpdir(), 'weft-local-level-layout-'))
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

/** Writes `entries` with a raw Level, as another program or an older version would have. */
const writeRaw = async (entries: Record<string, string>): Promise<void> => {
  const db = new Level<string, string>(location)
  await db.batch(Object.entries(entries).map(([key, value]) => ({ type: 'put', key, value })))
  await db.close()
}

describe('LevelLocalStore key layout v2', () => {
  it('writes only keys of its writer namespace, main in Node', async () => {
    const store = await LevelLocalStore.open({ location })
    expect(store.writerId).toBe('main')
    expect(store.location).toBe(location)
    await store.write('a:b/ü', {
      updates: [update(1), update(2)],
      outboxAdd: [{ ref: 7, update: update(7) }],
    })
    await store.write('a:b/ü', { outboxRemove: [7] })
    await store.compact('a:b/ü', update(3))
    await store.write('a:b/ü', { updates: [update(4)], outboxAdd: [{ ref: 8, update: update(8) }] })
    await store.close()
    const prefix = 'v2:doc:a%3Ab%2F%C3%BC:w:main:'
    const stored = await dump()
    expect(Object.keys(stored).sort()).toEqual([
      `${prefix}log:${seq(3)}`,
      `${prefix}meta`,
      `${prefix}outbox:${seq(8)}`,
      `${prefix}snapshot`,
      'v2:format',
    ])
    expect(stored['v2:format']).toBe('weft-local-level-2')
    expect(JSON.parse(stored[`${prefix}meta`]!)).toEqual({ lastRef: 8, nextSeq: 4 })
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
      `v2:doc:doc:w:main:log:${seq(1)}`,
      'v2:doc:doc:w:main:meta',
      `v2:doc:doc:w:main:outbox:${seq(1)}`,
      'v2:format',
    ])
  })

  it('migrates a layout-1 store into namespace main, in one step, and opens it again', async () => {
    const v1 = 'v1:doc:a%3Ab:'
    await writeRaw({
      'v1:format': 'weft-local-level-1',
      [`${v1}meta`]: JSON.stringify({ lastRef: 3, nextSeq: 3 }),
      [`${v1}snapshot`]: 'snapshot',
      [`${v1}log:${seq(2)}`]: 'log 2',
      [`${v1}outbox:${seq(3)}`]: 'outbox 3',
      [`v1:doc:other:log:${seq(1)}`]: 'other 1',
    })
    const store = await LevelLocalStore.open({ location })
    expect(await store.load('a:b')).toEqual({
      snapshot: text('snapshot'),
      updates: [text('log 2')],
      outbox: [{ ref: 3, update: text('outbox 3') }],
      lastRef: 3,
    })
    // The next entry goes after the migrated log, and the next ref after the migrated lastRef.
    await store.write('a:b', { updates: [text('log 3')] })
    await store.close()
    const v2 = 'v2:doc:a%3Ab:w:main:'
    expect(await dump()).toEqual({
      'v2:format': 'weft-local-level-2',
      [`${v2}meta`]: JSON.stringify({ lastRef: 3, nextSeq: 4 }),
      [`${v2}snapshot`]: 'snapshot',
      [`${v2}log:${seq(2)}`]: 'log 2',
      [`${v2}log:${seq(3)}`]: 'log 3',
      [`${v2}outbox:${seq(3)}`]: 'outbox 3',
      [`v2:doc:other:w:main:log:${seq(1)}`]: 'other 1',
    })
    const again = await LevelLocalStore.open({ location })
    expect((await again.load('other')).updates).toEqual([text('other 1')])
    expect((await again.load('a:b')).updates).toEqual([text('log 2'), text('log 3')])
    await again.close()
  })

  it("reads other writers' namespaces without touching them (no Web Locks in Node)", async () => {
    const theirs = 'v2:doc:doc:w:tab1:'
    const foreign = {
      'v2:format': 'weft-local-level-2',
      [`${theirs}meta`]: JSON.stringify({ lastRef: 5, nextSeq: 2 }),
      [`${theirs}snapshot`]: 'their snapshot',
      [`${theirs}log:${seq(1)}`]: 'their log',
      [`${theirs}outbox:${seq(5)}`]: 'their outbox',
    }
    await writeRaw(foreign)
    const store = await LevelLocalStore.open({ location })
    await store.write('doc', {
      updates: [text('mine')],
      outboxAdd: [{ ref: 1, update: text('o') }],
    })
    expect(await store.load('doc')).toEqual({
      snapshot: null,
      updates: [text('mine'), text('their snapshot'), text('their log'), text('their outbox')],
      outbox: [{ ref: 1, update: text('o') }],
      lastRef: 1,
    })
    await store.compact('doc', text('compacted'))
    await store.clear('doc')
    expect(await store.load('doc')).toEqual({
      snapshot: null,
      updates: [text('their snapshot'), text('their log'), text('their outbox')],
      outbox: [],
      lastRef: 0,
    })
    await store.close()
    expect(await dump()).toEqual(foreign)
  })

  it('cannot open a sibling writer in Node, where LevelDB allows one opener', async () => {
    const store = await LevelLocalStore.open({ location })
    await expect(store.openSibling()).rejects.toMatchObject({ code: 'STORAGE_FAILED' })
    await store.close()
    await expect(store.openSibling()).rejects.toMatchObject({ code: 'CLOSED' })
  })
})
