/** LevelLocalStore's own cases in the browser: writer ids and their Web Locks, the v2 layout in IndexedDB, migration, no Web Locks. */
import { LevelLocalStore } from '@weft/client/level'
import { describe, expect, it } from 'vitest'
import { rawKeys, writeRaw } from './raw-indexeddb.js'

const text = (value: string): Uint8Array => new TextEncoder().encode(value)
const seq = (value: number): string => String(value).padStart(16, '0')

/** Runs `body` with `navigator.locks` hidden, as in a browser without the Web Locks API. */
const withoutWebLocks = async (body: () => Promise<void>): Promise<void> => {
  Object.defineProperty(navigator, 'locks', { value: undefined, configurable: true })
  try {
    await body()
  } finally {
    delete (navigator as { locks?: unknown }).locks
  }
}

const heldLocks = async (): Promise<string[]> =>
  ((await navigator.locks.query()).held ?? []).map(({ name }) => name ?? '')

/** Registers the cases; `freshLocation(kind)` names a database no other case uses. */
export const registerLevelBrowserCases = (freshLocation: (kind: string) => string): void => {
  describe('LevelLocalStore in the browser', () => {
    it('takes a writer id per tab, resumes it after a reload, and a duplicated tab gets its own', async () => {
      const location = freshLocation('writers')
      const remembered = `weft-local-store-writer:${location}`
      const a = await LevelLocalStore.open({ location })
      const b = await LevelLocalStore.open({ location, writer: 'new' })
      try {
        expect(a.writerId).toMatch(/^[a-z0-9]{16}$/)
        expect(a.location).toBe(location)
        expect(sessionStorage.getItem(remembered)).toBe(a.writerId)
        expect(b.writerId).not.toBe(a.writerId)
        expect(sessionStorage.getItem(remembered)).toBe(a.writerId)
        // As in a duplicated tab, the remembered id is held by a live opener: a fresh one it is.
        const c = await LevelLocalStore.open({ location })
        expect([a.writerId, b.writerId]).not.toContain(c.writerId)
        expect(sessionStorage.getItem(remembered)).toBe(c.writerId)
        await c.close()
        const reloaded = await LevelLocalStore.open({ location })
        expect(reloaded.writerId).toBe(c.writerId)
        await reloaded.close()
      } finally {
        await a.close()
        await b.close()
      }
    })

    it('holds the Web Lock of its writer id from open to close', async () => {
      const location = freshLocation('lock')
      const store = await LevelLocalStore.open({ location })
      const name = `weft-local-store:${location}:${store.writerId}`
      expect(await heldLocks()).toContain(name)
      await store.close()
      expect(await heldLocks()).not.toContain(name)
    })

    it("keeps each opener's keys under its own namespace of layout v2", async () => {
      const location = freshLocation('layout')
      const a = await LevelLocalStore.open({ location })
      const b = await LevelLocalStore.open({ location, writer: 'new' })
      await a.write('a:b', { updates: [text('a')], outboxAdd: [{ ref: 1, update: text('a') }] })
      await b.write('a:b', { updates: [text('b')], outboxAdd: [{ ref: 1, update: text('b') }] })
      const keys = await rawKeys(location)
      const names = (id: string): string[] => [
        `v2:doc:a%3Ab:w:${id}:log:${seq(1)}`,
        `v2:doc:a%3Ab:w:${id}:meta`,
        `v2:doc:a%3Ab:w:${id}:outbox:${seq(1)}`,
      ]
      expect(keys.sort()).toEqual([...names(a.writerId), ...names(b.writerId), 'v2:format'].sort())
      await a.close()
      await b.close()
    })

    it('migrates a layout-1 database; the first load adopts namespace main', async () => {
      const location = freshLocation('migrate')
      const v1 = 'v1:doc:doc:'
      await writeRaw(location, {
        'v1:format': 'weft-local-level-1',
        [`${v1}meta`]: JSON.stringify({ lastRef: 3, nextSeq: 3 }),
        [`${v1}snapshot`]: 'snapshot',
        [`${v1}log:${seq(2)}`]: 'log 2',
        [`${v1}outbox:${seq(3)}`]: 'outbox 3',
      })
      const store = await LevelLocalStore.open({ location })
      try {
        expect((await rawKeys(location)).sort()).toEqual(
          ['log:0000000000000002', 'meta', 'outbox:0000000000000003', 'snapshot']
            .map((rest) => `v2:doc:doc:w:main:${rest}`)
            .concat('v2:format'),
        )
        expect(await store.load('doc')).toEqual({
          snapshot: null,
          updates: [text('snapshot'), text('log 2')],
          outbox: [{ ref: 3, update: text('outbox 3') }],
          lastRef: 3,
        })
        const keys = await rawKeys(location)
        expect(keys.filter((key) => key.includes(':w:main:'))).toEqual([])
        expect(keys).toContain(`v2:doc:doc:w:${store.writerId}:outbox:${seq(3)}`)
      } finally {
        await store.close()
      }
    })

    it('clear removes its own and orphaned namespaces, not a live writer', async () => {
      const location = freshLocation('clear')
      const [a, b, c] = [
        await LevelLocalStore.open({ location }),
        await LevelLocalStore.open({ location, writer: 'new' }),
        await LevelLocalStore.open({ location, writer: 'new' }),
      ]
      for (const store of [a, b, c]) await store.write('doc', { updates: [text(store.writerId)] })
      await c.close()
      await a.clear('doc')
      const keys = await rawKeys(location)
      expect(keys.filter((key) => key.startsWith('v2:doc:'))).toEqual([
        `v2:doc:doc:w:${b.writerId}:log:${seq(1)}`,
        `v2:doc:doc:w:${b.writerId}:meta`,
      ])
      expect((await a.load('doc')).updates).toEqual([text(b.writerId)])
      await a.close()
      await b.close()
    })

    it('without Web Locks, takes a fresh writer per open and never touches the others', async () => {
      const location = freshLocation('no-locks')
      await withoutWebLocks(async () => {
        const a = await LevelLocalStore.open({ location })
        await a.write('doc', { updates: [text('a')], outboxAdd: [{ ref: 1, update: text('a') }] })
        await a.close()
        const theirs = await rawKeys(location)
        const b = await LevelLocalStore.open({ location })
        try {
          expect(b.writerId).not.toBe(a.writerId)
          expect(sessionStorage.getItem(`weft-local-store-writer:${location}`)).toBeNull()
          expect(await b.load('doc')).toEqual({
            snapshot: null,
            updates: [text('a'), text('a')],
            outbox: [],
            lastRef: 0,
          })
          await b.write('doc', { updates: [text('b')] })
          await b.compact('doc', text('b'))
          await b.clear('doc')
          expect(await rawKeys(location)).toEqual(theirs)
        } finally {
          await b.close()
        }
      })
    })
  })
}
