/** The LocalStore conformance suites against IndexedDB (LevelLocalStore through browser-level). */
import { encryptLocalStore, type LocalStore } from '@weft/client'
import { LevelLocalStore } from '@weft/client/level'
import {
  runLocalStoreSuite,
  runSharedLocalStoreSuite,
  type SharedLocalStoreFixture,
} from '@weft/testkit/local-store-suite'
import { registerLevelBrowserCases } from './level-cases.js'
import { tabApi } from './tab-api.js'
import { runCases } from './vitest-shim.js'

let opened = 0

/** A database name no earlier case used. */
const freshLocation = (kind: string): string => `${kind}-${Date.now()}-${++opened}`

runLocalStoreSuite(
  'LevelLocalStore on IndexedDB',
  async () => {
    const location = freshLocation('conformance')
    const instances: LevelLocalStore[] = []
    const open = async (): Promise<LevelLocalStore> => {
      const store = await LevelLocalStore.open({ location })
      instances.push(store)
      return store
    }
    return {
      store: await open(),
      reopen: open,
      cleanup: async () => {
        for (const store of instances) await store.close().catch(() => {})
      },
    }
  },
  { durable: true },
)

/** Openers of one IndexedDB database in this page; `wrap` turns each into the store tested. */
const sharedFixture =
  (wrap: (store: LocalStore) => LocalStore) => async (): Promise<SharedLocalStoreFixture> => {
    const location = freshLocation('shared')
    const instances: LocalStore[] = []
    return {
      open: async (writer) => {
        const store = wrap(await LevelLocalStore.open({ location, writer }))
        instances.push(store)
        return store
      },
      cleanup: async () => {
        for (const store of instances) await store.close().catch(() => {})
      },
    }
  }

runSharedLocalStoreSuite(
  'LevelLocalStore on IndexedDB, two openers in one page',
  sharedFixture((store) => store),
)

const keys = [{ id: 'k', key: new Uint8Array(32).fill(7) }]

runSharedLocalStoreSuite(
  'encryptLocalStore(LevelLocalStore) on IndexedDB, two openers in one page',
  sharedFixture((store) => encryptLocalStore(store, { keys })),
)

registerLevelBrowserCases(freshLocation)

const run = async (): Promise<Array<{ name: string; error: string | null }>> => {
  const results = await runCases()
  document.querySelector('#results')!.textContent = results
    .map((result) => `${result.error === null ? 'ok  ' : 'FAIL'} ${result.name}`)
    .join('\n')
  return results
}

Object.assign(window, { runConformance: run, weftTab: tabApi })
