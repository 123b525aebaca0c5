/** startRedis: a throwaway redis-server on a free loopback port, for tests of relays sharing a bus. */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from './run-support.js'
import { systemTool } from './system-tool.js'

/** A redis-server started by {@link startRedis}. */
export interface TestRedis {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string
  readonly port: number
  /** Stops the server (SIGTERM, then SIGKILL) and removes its directory. */
  stop(): Promise<void>
  /** Kills the server with SIGKILL, as a crash would; `restart` brings it back. */
  kill(): Promise<void>
  /** Freezes the server (SIGSTOP): connections stay open and nothing is answered. */
  pause(): void
  /** Thaws a paused server (SIGCONT). */
  resume(): void
  /** Starts the server again on the same port (killing it first if it runs), empty. */
  restart(): Promise<void>
}

const CANDIDATES = ['/usr/bin/redis-server', '/usr/local/bin/redis-server']

/** Every server still running, stopped when the process exits so none outlives the tests. */
const running = new Set<ChildProcess>()
let exitHookInstalled = false

const installExitHook = (): void => {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.once('exit', () => {
    for (const child of running) child.kill('SIGKILL')
  })
}

/** The redis-server executable: `REDIS_SERVER_PATH`, one on the PATH or in the usual places, or apt's. */
export const redisServerPath = (): string =>
  systemTool({
    name: 'redis-server',
    envVar: 'REDIS_SERVER_PATH',
    aptPackage: 'redis-server',
    find: () => {
      for (const dir of (process.env['PATH'] ?? '').split(':')) {
        if (dir !== '' && existsSync(join(dir, 'redis-server'))) return join(dir, 'redis-server')
      }
      return CANDIDATES.find((path) => existsSync(path))
    },
  })

/** Starts redis-server and resolves once it accepts connections. */
const launch = (
  path: string,
  port: number,
  dir: string,
  timeoutMs: number,
): Promise<ChildProcess> =>
  new Promise((resolve, reject) => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir]
    args.push('--save', '', '--appendonly', 'no', '--protected-mode', 'no', '--loglevel', 'notice')
    const child = spawn(path, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`redis-server did not start within ${timeoutMs} ms:\n${output}`))
    }, timeoutMs)
    const onData = (chunk: Buffer): void => {
      output += chunk.toString()
      if (!output.includes('Ready to accept connections')) return
      clearTimeout(timer)
      child.stdout?.off('data', onData)
      // Keep draining its output so a chatty server never blocks on a full pipe.
      child.stdout?.resume()
      child.stderr?.resume()
      resolve(child)
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.once('exit', (code, signal) => {
      running.delete(child)
      clearTimeout(timer)
      reject(new Error(`redis-server exited (${code ?? signal}) before it was ready:\n${output}`))
    })
    running.add(child)
    installExitHook()
    if (child.pid !== undefined) startWatchdog(child.pid, dir)
  })

/**
 * A detached shell that kills the server once this process is gone, even when it was killed
 * itself (no exit hook runs then); it ends on its own when the server does.
 */
const startWatchdog = (serverPid: number, dir: string): void => {
  const quoted = `'${dir.replaceAll("'", "'\\''")}'`
  const script =
    `while kill -0 ${process.pid} 2>/dev/null; do kill -0 ${serverPid} 2>/dev/null || exit 0; ` +
    `sleep 1; done; kill -9 ${serverPid} 2>/dev/null; rm -rf ${quoted}`
  spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' }).unref()
}

/** Sends `signal` and resolves once the process has exited (at once if it already has). */
const killAndWait = (child: ChildProcess, signal: NodeJS.Signals): Promise<void> => {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill(signal)
  return exited
}

/**
 * Starts redis-server in a temp dir on a free loopback port with no persistence (`--save ''
 * --appendonly no`): a bus for relays under test. Stopped with `stop()`, and by itself when the
 * process exits.
 */
export const startRedis = async (options: { timeoutMs?: number } = {}): Promise<TestRedis> => {
  const { timeoutMs = 10_000 } = options
  const path = redisServerPath()
  const dir = await mkdtemp(join(tmpdir(), 'weft-redis-'))
  const port = await freePort()
  let child = await launch(path, port, dir, timeoutMs)
  const stopChild = async (): Promise<void> => {
    child.kill('SIGCONT')
    const stopping = killAndWait(child, 'SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 2_000)
    await stopping
    clearTimeout(timer)
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop: async () => {
      await stopChild()
      await rm(dir, { recursive: true, force: true })
    },
    kill: () => killAndWait(child, 'SIGKILL'),
    pause: () => child.kill('SIGSTOP'),
    resume: () => child.kill('SIGCONT'),
    restart: async () => {
      await killAndWait(child, 'SIGKILL')
      child = await launch(path, port, dir, timeoutMs)
    },
  }
}
