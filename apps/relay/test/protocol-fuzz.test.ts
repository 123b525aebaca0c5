import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createClient } from '@weft/client'
import { chooseSeed, runProtocolFuzz, spawnRelay } from '@weft/testkit'
import { describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url))

describe('protocol fuzzing (smoke size)', () => {
  it('mutated and random frames in both dialects: no crash, answers within bounds, honest edits intact', async () => {
    const seed = chooseSeed('protocol fuzz')
    const dataDir = mkdtempSync(join(tmpdir(), 'weft-fuzz-'))
    const relay = await spawnRelay(MAIN, dataDir)
    const url = `ws://127.0.0.1:${relay.port}`
    const honest = createClient({ url, WebSocket: WebSocket })
    try {
      const handle = honest.open('fuzzed')
      await handle.whenSynced()
      handle.doc.getText('honest').insert(0, 'written before')
      await handle.whenSaved()
      const result = await runProtocolFuzz({ url, seed, executions: 300, doc: 'fuzzed' })
      console.log('protocol fuzz', JSON.stringify(result))
      expect(relay.child.exitCode).toBeNull()
      expect(result.worstResponseMs).toBeLessThan(1000)
      handle.doc.getText('honest').insert(14, ', and after')
      await handle.whenSaved()
      const fresh = createClient({ url, WebSocket: WebSocket })
      const check = fresh.open('fuzzed')
      await check.whenSynced()
      expect(check.doc.getText('honest').toString()).toBe('written before, and after')
      await fresh.close()
    } finally {
      await honest.close()
      await relay.stop()
      rmSync(dataDir, { recursive: true, force: true })
    }
  }, 120_000)
})
