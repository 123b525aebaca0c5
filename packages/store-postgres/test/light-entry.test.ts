import { fileURLToPath } from 'node:url'
import { modulesLoadedBy, startPostgres, type TestPostgres } from '@weft/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const packageDir = fileURLToPath(new URL('..', import.meta.url))

// Opens a store and writes through it.
const OPEN_STORE = `
import { PostgresStore } from '@weft/store-postgres'
const [url] = process.argv.slice(1)
const store = await PostgresStore.open({ url })
await store.writeState([{ key: 'light', value: true }])
await store.close()
`

let server: TestPostgres
beforeAll(async () => {
  server = await startPostgres()
}, 60_000)
afterAll(async () => {
  await server.stop()
})

describe('@weft/store-postgres', () => {
  it('loads neither ws, jose nor zod: it reaches the server only through @weft/server/store', async () => {
    // Run from the package, so `@weft/store-postgres` resolves through its own exports.
    const { files, packages } = await modulesLoadedBy(packageDir, OPEN_STORE, [server.url])
    // The record is real: the store's own modules and dependencies are in it.
    expect(
      files.some((line) => line.endsWith('/packages/store-postgres/src/postgres-store.ts')),
    ).toBe(true)
    expect(files.some((line) => line.endsWith('/packages/server/src/store.ts'))).toBe(true)
    expect(packages).toContain('pg')
    expect(packages).toContain('yjs')
    // And the relay is not: no WebSocket server, JWT or schema library, no relay module.
    for (const heavy of ['ws', 'jose', 'zod']) expect(packages, heavy).not.toContain(heavy)
    expect(files.filter((line) => line.endsWith('/packages/server/src/index.ts'))).toEqual([])
  })
})
