import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { createClient } from '@weft/client'
import { spawnRelay, startTestRelay } from '@weft/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import * as Y from 'yjs'

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url))
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href
let dir = ''

afterEach(() => rmSync(dir, { recursive: true, force: true }))

/** Runs `relay docs …`; resolves with the exit code and output. */
const docs = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
  new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', tsx, MAIN, 'docs', ...args, '--data', dir],
      { encoding: 'utf8' },
      (error, stdout, stderr) =>
        resolve({ code: error === null ? 0 : Number(error.code), stdout, stderr }),
    )
  })

describe('relay docs (CLI on a stopped relay’s data directory)', () => {
  it('lists, inspects, exports, imports, compacts and deletes', async () => {
    dir = mkdtempSync(join(tmpdir(), 'weft-docs-cli-'))
    const relay = await startTestRelay({ dataDir: dir })
    const client = createClient({ url: relay.url, WebSocket: WebSocket })
    const handle = client.open('notes')
    handle.doc.getText('t').insert(0, 'kept on disk')
    await handle.whenSaved()
    await client.close()
    await relay.close({ keepData: true })

    const list = await docs(['list'])
    expect(list.code).toBe(0)
    // The relay folded the log into the snapshot when it stopped.
    const [listed] = JSON.parse(list.stdout) as Array<Record<string, unknown>>
    expect(listed).toMatchObject({ name: 'notes', logRecords: 0, loaded: false, peers: 0 })
    expect(listed?.['snapshotBytes']).toBeGreaterThan(0)
    const inspect = await docs(['inspect', 'notes'])
    expect(JSON.parse(inspect.stdout)).toMatchObject({
      name: 'notes',
      stateVector: { [String(handle.doc.clientID)]: 12 },
      pending: false,
    })

    const file = join(dir, '..', `${Date.now()}-notes.yjs`)
    expect((await docs(['export', 'notes', '--file', file])).code).toBe(0)
    const copy = new Y.Doc()
    Y.applyUpdate(copy, new Uint8Array(readFileSync(file)))
    expect(copy.getText('t').toString()).toBe('kept on disk')
    expect((await docs(['import', 'copy', '--file', file])).code).toBe(0)
    rmSync(file)
    // History: the import is recorded; restoring to before it empties the copy again.
    const history = JSON.parse((await docs(['history', 'copy'])).stdout) as {
      entries: Array<{ author: string; receivedAtMs: number }>
    }
    expect(history.entries.map((entry) => entry.author)).toEqual(['admin:cli'])
    const before = (history.entries[0]?.receivedAtMs as number) - 1
    expect((await docs(['restore', 'copy'])).code).toBe(2)
    expect((await docs(['restore', 'copy', '--at', String(before)])).code).toBe(0)
    const emptied = join(dir, '..', `${Date.now()}-copy.yjs`)
    expect((await docs(['export', 'copy', '--file', emptied])).code).toBe(0)
    const now = new Y.Doc()
    Y.applyUpdate(now, new Uint8Array(readFileSync(emptied)))
    expect(now.getText('t').toString()).toBe('')
    expect(
      (
        await docs([
          'export',
          'copy',
          '--at',
          new Date(before + 1).toISOString(),
          '--file',
          emptied,
        ])
      ).code,
    ).toBe(0)
    const then = new Y.Doc()
    Y.applyUpdate(then, new Uint8Array(readFileSync(emptied)))
    expect(then.getText('t').toString()).toBe('kept on disk')
    rmSync(emptied)
    const compact = await docs(['compact', 'notes'])
    expect(JSON.parse(compact.stdout)).toEqual({ folded: 0 })
    expect((await docs(['delete', 'notes'])).code).toBe(0)
    expect(
      JSON.parse((await docs(['list'])).stdout).map((doc: { name: string }) => doc.name),
    ).toEqual(['copy'])

    const bad = await docs(['inspect', ''])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain('BAD_DOC_NAME')
    expect((await docs(['frobnicate'])).code).toBe(2)
  }, 60_000)

  it('refuses a data directory a running relay holds, and says what to do', async () => {
    dir = mkdtempSync(join(tmpdir(), 'weft-docs-cli-'))
    const relay = await spawnRelay(MAIN, dir)
    try {
      const result = await docs(['list'])
      expect(result.code).toBe(1)
      expect(result.stderr).toContain('a running relay holds it')
    } finally {
      await relay.stop()
    }
  }, 60_000)
})
