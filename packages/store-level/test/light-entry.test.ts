import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { modulesLoadedBy } from '@weft/testkit'
import { afterEach, describe, expect, it } from 'vitest'

const packageDir = fileURLToPath(new URL('..', import.meta.url))

// Opens a store and writes through it.
const OPEN_STORE = `
import { LevelStore } from '@weft/store-level'
const [path] = process.argv.slice(1)
const store = await LevelStore.open({ path })
await store.writeState([{ key: 'light', value: true }])
await store.close()
`

let dir = ''
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('@weft/store-level', () => {
  it('loads neither ws, jose nor zod: it reaches the server only through @weft/server/store', async () => {
    dir = await mkdtemp(join(tmpdir(), 'weft-light-'))
    // Run from the package, so `@weft/store-level` resolves through its own exports.
    const { files, packages } = await modulesLoadedBy(packageDir, OPEN_STORE, [join(dir, 'data')])
    // The record is real: the store's own modules and dependencies are in it.
    expect(files.some((line) => line.endsWith('/packages/store-level/src/level-store.ts'))).toBe(
      true,
    )
    expect(files.some((line) => line.endsWith('/packages/server/src/store.ts'))).toBe(true)
    expect(packages).toContain('level')
    expect(packages).toContain('classic-level')
    expect(packages).toContain('yjs')
    // And the relay is not: no WebSocket server, JWT or schema library, no relay module.
    for (const heavy of ['ws', 'jose', 'zod']) expect(packages, heavy).not.toContain(heavy)
    expect(files.filter((line) => line.endsWith('/packages/server/src/index.ts'))).toEqual([])
  })
})
