import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { encryptLocalStore, MemoryLocalStore, type LocalStore } from '@weft/client'
import { LevelLocalStore } from '@weft/client/level'
import { runLocalStoreSuite, type LocalStoreFixture } from '../src/local-store-suite.js'

/** A fixture on a fresh LevelDB directory; `wrap` turns each opened store into the one tested. */
const levelFixture = async (
  wrap: (store: LocalStore) => LocalStore,
): Promise<LocalStoreFixture> => {
  const location = await mkdtemp(join(tmpdir(), 'weft-local-level-'))
  const opened: LocalStore[] = []
  const openOne = async (): Promise<LocalStore> => {
    const store = wrap(await LevelLocalStore.open({ location }))
    opened.push(store)
    return store
  }
  return {
    store: await openOne(),
    reopen: openOne,
    cleanup: async () => {
      // close() is idempotent on every store here, so closing already-closed ones is harmless.
      for (const store of opened) await store.close()
      await rm(location, { recursive: true, force: true })
    },
  }
}

const keys = [
  { id: 'current', key: new Uint8Array(32).fill(7) },
  { id: 'previous', key: new Uint8Array(32).fill(3) },
]

runLocalStoreSuite(
  'MemoryLocalStore',
  async () => ({ store: new MemoryLocalStore(), cleanup: async () => {} }),
  { durable: false },
)

runLocalStoreSuite(
  'encryptLocalStore(MemoryLocalStore)',
  async () => ({
    store: encryptLocalStore(new MemoryLocalStore(), { keys }),
    cleanup: async () => {},
  }),
  { durable: false },
)

runLocalStoreSuite('LevelLocalStore', () => levelFixture((store) => store), { durable: true })

runLocalStoreSuite(
  'encryptLocalStore(LevelLocalStore)',
  () => levelFixture((store) => encryptLocalStore(store, { keys })),
  { durable: true },
)
