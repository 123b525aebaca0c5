/** A server child process on loopback: spawned, ready when its output says so, stopped or killed. */
import { spawn, type ChildProcess } from 'node:child_process'
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
import { nowMs } from '../clock.js'
import type { ServerKind } from '../systems.js'

/** A running server process. */
export interface ServerProcess {
  readonly kind: ServerKind
  readonly pid: number
  readonly port: number
  /** `ws://127.0.0.1:<port>` */
  readonly url: string
  readonly dataDir: string
  /** Wall time from spawn until the server said it was listening, in ms. */
  readonly startMs: number
  /** Resolves with the exit code or signal name once the process has exited. */
  readonly exited: Promise<number | string>
  /** The last 64 KiB of stdout and stderr. */
  output(): string
  /**
   * Sends `signal` (SIGTERM by default) and resolves with the exit code or signal; a process
   * still running after `timeoutMs` is killed with SIGKILL.
   */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | string>
}

/** How to spawn one server. */
export interface SpawnSpec {
  readonly kind: ServerKind
  readonly args: readonly string[]
  readonly env?: NodeJS.ProcessEnv
  readonly dataDir: string
  /** Run the script through tsx (TypeScript entry points). */
  readonly tsx: boolean
  /** Matches the ready line of the output; group 1 is the port when `port` is not given. */
  readonly ready: RegExp
  readonly port?: number
  readonly timeoutMs?: number
}

const OUTPUT_KEEP_CHARS = 64 * 1024
const require = createRequire(import.meta.url)
/** The tsx loader, for `node --import` (resolved from here, so it works from any cwd). */
export const TSX_LOADER = pathToFileURL(require.resolve('tsx')).href

const live = new Set<ChildProcess>()
let cleanupInstalled = false

/** Kills every server and agent this process spawned and has not seen exit (on any exit path). */
export const trackChild = (child: ChildProcess): void => {
  live.add(child)
  child.once('exit', () => live.delete(child))
  if (cleanupInstalled) return
  cleanupInstalled = true
  process.once('exit', () => {
    for (const leftover of live) leftover.kill('SIGKILL')
  })
}

/** Spawns `node [--import tsx] …args` and resolves once `spec.ready` matches its output. */
export const spawnServer = (spec: SpawnSpec): Promise<ServerProcess> => {
  const started = nowMs()
  const nodeArgs = spec.tsx ? ['--import', TSX_LOADER, ...spec.args] : [...spec.args]
  const child = spawn(process.execPath, nodeArgs, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...spec.env },
  })
  trackChild(child)
  let output = ''
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'))
  })
  const timeoutMs = spec.timeoutMs ?? 30_000
  return new Promise((resolve, reject) => {
    let ready = false
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${spec.kind} did not start within ${timeoutMs} ms:\n${output}`))
    }, timeoutMs)
    const onData = (chunk: Buffer): void => {
      output = (output + chunk.toString()).slice(-OUTPUT_KEEP_CHARS)
      if (ready) return
      const match = spec.ready.exec(output)
      if (match === null) return
      ready = true
      clearTimeout(timer)
      const port = spec.port ?? Number(match[1])
      resolve(handle(spec, child, port, nowMs() - started, exited, () => output))
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    void exited.then((code) => {
      if (ready) return
      clearTimeout(timer)
      reject(new Error(`${spec.kind} exited (${code}) before listening:\n${output}`))
    })
  })
}

const handle = (
  spec: SpawnSpec,
  child: ChildProcess,
  port: number,
  startMs: number,
  exited: Promise<number | string>,
  output: () => string,
): ServerProcess => ({
  kind: spec.kind,
  pid: child.pid ?? -1,
  port,
  url: `ws://127.0.0.1:${port}`,
  dataDir: spec.dataDir,
  startMs,
  exited,
  output,
  stop: async (signal = 'SIGTERM', timeoutMs = 30_000) => {
    if (child.exitCode !== null || child.signalCode !== null) return exited
    child.kill(signal)
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    const code = await exited
    clearTimeout(timer)
    return code
  },
})
