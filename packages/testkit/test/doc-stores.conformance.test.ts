import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MemoryStore } from '@weft/server'
import { LevelStore } from '@weft/store-level'
import { runDocStoreSuite } from '../src/doc-store-suite.js'

runDocStoreSuite(
  'MemoryStore',
  async () => ({ store: new MemoryStore(), cleanup: async () => {} }),
  { durable: false },
)

runDocStoreSuite(
  'LevelStore',
  async () => {
    const path = await mkdtemp(join(tmpdir(), 'weft-level-'))
    const store = await LevelStore.open({ path })
    const opened = [store]
    return {
      store,
      reopen: async () => {
        const again = await LevelStore.open({ path })
        opened.push(again)
        return again
      },
      cleanup: async () => {
        for (const each of opened) await each.close()
        await rm(path, { recursive: true, force: true })
      },
    }
  },
  { durable: true },
)
