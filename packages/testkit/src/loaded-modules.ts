/**
 * modulesLoadedBy: runs an ES module script in a child `node --import tsx` and reports every
 * module it loaded, to prove that an entry point stays light (e.g. a store that must not load
 * the relay's WebSocket, JWT or schema libraries).
 */
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'

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

// CommonJS requires bypass the ES hooks, so the modules in require's cache are recorded too,
// once the script has finished.
const REQUIRE_CACHE = `
import { appendFileSync as __appendLoaded } from 'node:fs'
import { createRequire as __createRequire } from 'node:module'
process.once('beforeExit', () => {
  __appendLoaded(process.env.WEFT_LOADED_FILE, Object.keys(__createRequire(import.meta.url).cache).join('\\n') + '\\n')
})
`

/** What a script loaded: every module file or URL, and the npm packages they belong to. */
export interface LoadedModules {
  readonly files: string[]
  /** Package names, from each file's last `node_modules/` (pnpm nests them). */
  readonly packages: Set<string>
}

/**
 * Runs `script` (ES module source) with `args` from `cwd` (so package names resolve through that
 * package's dependencies and its own exports) and resolves with what it loaded. Rejects if the
 * script fails or takes longer than `timeoutMs`.
 */
export const modulesLoadedBy = async (
  cwd: string,
  script: string,
  args: readonly string[] = [],
  timeoutMs = 20_000,
): Promise<LoadedModules> => {
  const dir = await mkdtemp(join(tmpdir(), 'weft-loaded-'))
  try {
    const recordFile = join(dir, 'loaded.txt')
    const hooksFile = join(dir, 'hooks.mjs')
    const registerFile = join(dir, 'register.mjs')
    await writeFile(recordFile, '')
    await writeFile(hooksFile, RESOLVE_HOOKS)
    await writeFile(registerFile, registerHooks(pathToFileURL(hooksFile).href, recordFile))
    await promisify(execFile)(
      process.execPath,
      [
        '--import',
        'tsx',
        '--import',
        pathToFileURL(registerFile).href,
        '--input-type=module',
        '--eval',
        REQUIRE_CACHE + script,
        ...args,
      ],
      { cwd, timeout: timeoutMs, env: { ...process.env, WEFT_LOADED_FILE: recordFile } },
    )
    const files = (await readFile(recordFile, 'utf8')).split('\n').filter((line) => line !== '')
    const packages = new Set(
      files.flatMap((line) => /.*\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(line)?.[1] ?? []),
    )
    return { files, packages }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
