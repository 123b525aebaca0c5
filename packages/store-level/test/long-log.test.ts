import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MemoryStore } from '@weft/server'
import { runLongLogSuite } from '@weft/testkit'
import { afterEach, beforeEach } from 'vitest'
import { LevelStore } from '../src/level-store.js'

let path: string
beforeEach(async () => {
  path = await mkdtemp(join(tmpdir(), 'weft-long-log-'))
})
afterEach(async () => {
  await rm(path, { recursive: true, force: true })
})

// 300,000 entries, one record of 200,000: far past what a spread into a call survives.
const SIZES = { oldEntries: 200_000, recentRecords: 10, perRecent: 10_000 }
runLongLogSuite('LevelStore', (historyMs) => LevelStore.open({ path, historyMs }), SIZES)
runLongLogSuite('MemoryStore', async (historyMs) => new MemoryStore({ historyMs }), SIZES)
