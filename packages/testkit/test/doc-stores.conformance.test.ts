import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MemoryStore } from '@weft/server'
import { LevelStore } from '@weft/store-level'
import { describe } from 'vitest'
import { logTailConformanceTests } from '../src/doc-store-log-tail-suite.js'
import { runDocStoreSuite } from '../src/doc-store-suite.js'

runDocStoreSuite(
  'MemoryStore',
  async ({ historyMs }) => ({ store: new MemoryStore({ historyMs }), cleanup: async () => {} }),
  { durable: false },
)

describe('MemoryStore log tail', () => {
  logTailConformanceTests(async () => ({ store: new MemoryStore(), cleanup: async () => {} }))
})

runDocStoreSuite(
  'LevelStore',
  async ({ historyMs }) => {
    const path = await mkdtemp(join(tmpdir(), 'weft-level-'))
    const store = await LevelStore.open({ path, historyMs })
    const opened = [store]
    return {
      store,
      reopen: async () => {
        const again = await LevelStore.open({ path, historyMs })
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
