/** Describes the machine and the installed versions of Weft and its peers, for the report. */
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, realpathSync } from 'node:fs'
import { cpus, release, tmpdir, totalmem } from 'node:os'
import { dirname, join } from 'node:path'

/** CPU, cores, memory, OS, kernel, Node, and where the data directories live. */
export const describeMachine = (): Record<string, string> => {
  const osRelease = readText('/etc/os-release')
  const pretty = /^PRETTY_NAME="?([^"\n]+)"?/m.exec(osRelease)?.[1] ?? 'unknown'
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: String(cpus().length),
    memory: `${(totalmem() / 1024 ** 3).toFixed(1)} GiB`,
    os: pretty,
    kernel: `Linux ${release()}`,
    node: process.version,
    dataDirs: `${tmpdir()} (${run('findmnt', ['-n', '-o', 'FSTYPE,SOURCE', '--target', tmpdir()]) || 'unknown filesystem'})`,
  }
}

const readText = (path: string): string => {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return ''
  }
}

const run = (command: string, args: readonly string[], cwd?: string): string => {
  try {
    return execFileSync(command, args, {
      encoding: 'utf8',
      cwd,
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim()
  } catch {
    return ''
  }
}

/** The directory of package `name` as Node would find it from `fromDir` (symlinks resolved). */
const packageDir = (name: string, fromDir: string): string | null => {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name)
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate)
    if (dirname(dir) === dir) return null
  }
}

/** The version of the package reached through `chain` (each resolved from the previous one). */
const versionThrough = (fromDir: string, chain: readonly string[]): string => {
  let dir: string | null = fromDir
  for (const name of chain) {
    dir = dir === null ? null : packageDir(name, dir)
  }
  if (dir === null) return 'not installed'
  return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string })
    .version
}

/** Versions of everything the report names, read from the installed package.json files. */
export const describeVersions = (benchDir: string, repoRoot: string): Record<string, string> => {
  const through = (...chain: string[]): string => versionThrough(benchDir, chain)
  return {
    '@weft/client': through('@weft/client'),
    '@weft/server': versionThrough(join(repoRoot, 'apps/relay'), ['@weft/server']),
    'yjs (Weft relay)': versionThrough(join(repoRoot, 'packages/server'), ['yjs']),
    'ws (Weft relay)': versionThrough(join(repoRoot, 'packages/server'), ['ws']),
    '@hocuspocus/server': through('@hocuspocus/server'),
    '@hocuspocus/extension-sqlite': through('@hocuspocus/extension-sqlite'),
    sqlite3: through('@hocuspocus/extension-sqlite', 'sqlite3'),
    '@hocuspocus/provider': through('@hocuspocus/provider'),
    'yjs (Hocuspocus)': through('@hocuspocus/server', 'yjs'),
    '@y/websocket-server': through('@y/websocket-server'),
    'y-leveldb': through('@y/websocket-server', 'y-leveldb'),
    leveldown: through('@y/websocket-server', 'y-leveldb', 'level', 'leveldown'),
    'yjs (y-websocket-server)': through('@y/websocket-server', 'yjs'),
    'y-websocket (provider)': through('y-websocket'),
    'yjs (clients)': through('yjs'),
    'ws (clients)': through('ws'),
  }
}

/** The Weft commit measured, marked when the working tree differs from it. */
export const describeWeftCommit = (repoRoot: string): string => {
  const commit = run('git', ['rev-parse', '--short', 'HEAD'], repoRoot) || 'unknown'
  const dirty = run('git', ['status', '--porcelain', '--', 'packages', 'apps'], repoRoot) !== ''
  return dirty ? `${commit} + uncommitted changes in packages/ or apps/` : commit
}
