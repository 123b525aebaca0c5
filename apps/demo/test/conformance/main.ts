/** The LocalStore conformance suite against IndexedDB (LevelLocalStore through browser-level). */
import { LevelLocalStore } from '@weft/client/level'
import { runLocalStoreSuite } from '@weft/testkit/local-store-suite'
import { runCases } from './vitest-shim.js'

let opened = 0

runLocalStoreSuite(
  'LevelLocalStore on IndexedDB',
  async () => {
    const location = `conformance-${Date.now()}-${++opened}`
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

const run = async (): Promise<Array<{ name: string; error: string | null }>> => {
  const results = await runCases()
  document.querySelector('#results')!.textContent = results
    .map((result) => `${result.error === null ? 'ok  ' : 'FAIL'} ${result.name}`)
    .join('\n')
  return results
}

Object.assign(window, { runConformance: run })
