import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { startPostgres, type TestPostgres } from '@weft/testkit'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'

const packageDir = fileURLToPath(new URL('..', import.meta.url))

// Records the URL of every module the ES loader resolves, on the hooks thread, in a file.
const RESOLVE_HOOKS = `
import { appendFileSync } from 'node:fs'
let file = ''
export const initialize = (data) => { file = data.file }
export const resolve = async (specifier, context, next) => {
  const resolved = await next(specifier, context)
  appendFileSync(file, resolved.url + '\\n')
  return resolved
}
`
const registerHooks = (hooksUrl: string, recordFile: string): string => `
import { register } from 'node:module'
register(${JSON.stringify(hooksUrl)}, { data: { file: ${JSON.stringify(recordFile)} } })
`
// Opens a store and writes through it; CommonJS requires bypass the ES hooks, so the modules in
// require's cache are recorded too.
const OPEN_STORE = `
import { appendFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { PostgresStore } from '@weft/store-postgres'
const [url, file] = process.argv.slice(1)
const store = await PostgresStore.open({ url })
await store.writeState([{ key: 'light', value: true }])
await store.close()
appendFileSync(file, Object.keys(createRequire(import.meta.url).cache).join('\\n') + '\\n')
`

let server: TestPostgres
beforeAll(async () => {
  server = await startPostgres()
}, 60_000)
afterAll(async () => {
  await server.stop()
})

let dir = ''
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('@weft/store-postgres', () => {
  it('loads neither ws, jose nor zod: it reaches the server only through @weft/server/store', async () => {
    dir = await mkdtemp(join(tmpdir(), 'weft-light-'))
    const recordFile = join(dir, 'loaded.txt')
    const hooksFile = join(dir, 'hooks.mjs')
    const registerFile = join(dir, 'register.mjs')
    await writeFile(recordFile, '')
    await writeFile(hooksFile, RESOLVE_HOOKS)
    await writeFile(registerFile, registerHooks(pathToFileURL(hooksFile).href, recordFile))
    // Run from the package, so `@weft/store-postgres` resolves through its own exports.
    await promisify(execFile)(
      process.execPath,
      [
        '--import',
        'tsx',
        '--import',
        pathToFileURL(registerFile).href,
        '--input-type=module',
        '--eval',
        OPEN_STORE,
        server.url,
        recordFile,
      ],
      { cwd: packageDir, timeout: 20_000 },
    )
    const loaded = (await readFile(recordFile, 'utf8')).split('\n').filter((line) => line !== '')
    // The package a file belongs to follows its last `node_modules/` (pnpm nests them).
    const packages = new Set(
      loaded.flatMap((line) => /.*\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(line)?.[1] ?? []),
    )
    // The record is real: the store's own modules and dependencies are in it.
    expect(
      loaded.some((line) => line.endsWith('/packages/store-postgres/src/postgres-store.ts')),
    ).toBe(true)
    expect(loaded.some((line) => line.endsWith('/packages/server/src/store.ts'))).toBe(true)
    expect(packages).toContain('pg')
    expect(packages).toContain('yjs')
    // And the relay is not: no WebSocket server, JWT or schema library, no relay module.
    for (const heavy of ['ws', 'jose', 'zod']) expect(packages, heavy).not.toContain(heavy)
    expect(loaded.filter((line) => line.endsWith('/packages/server/src/index.ts'))).toEqual([])
  })
})
