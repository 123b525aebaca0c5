/** spawnRelay: the relay as a separate process (for SIGKILL and SIGTERM tests), on a free port. */
import { spawn, type ChildProcess } from 'node:child_process'
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'

/** A relay child process. */
export interface RelayProcess {
  readonly url: string
  readonly port: number
  readonly child: ChildProcess
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string
  /** Sends a signal and resolves with the exit code (or the signal name). */
  stop(signal?: NodeJS.Signals): Promise<number | string>
}

const require = createRequire(import.meta.url)
const tsxLoader = pathToFileURL(require.resolve('tsx')).href

/**
 * Starts `node --import tsx <mainPath> --port 0 --data <dataDir> …args` and resolves once it logs
 * `relay listening` (rejects if it exits first or after `timeoutMs`).
 */
export const spawnRelay = (
  mainPath: string,
  dataDir: string,
  args: readonly string[] = [],
  timeoutMs = 20_000,
): Promise<RelayProcess> => {
  const child = spawn(
    process.execPath,
    [
      '--import',
      tsxLoader,
      mainPath,
      '--port',
      '0',
      '--data',
      dataDir,
      ...(args.includes('--auth') ? [] : ['--auth', 'open']),
      ...args,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, WEFT_LOG_LEVEL: 'info' } },
  )
  let output = ''
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'))
  })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`relay did not start within ${timeoutMs} ms:\n${output}`))
    }, timeoutMs)
    const onData = (chunk: Buffer): void => {
      output += chunk.toString()
      const match = /"port":(\d+)[^\n]*"msg":"relay listening"/.exec(output)
      if (match === null) return
      clearTimeout(timer)
      const port = Number(match[1])
      resolve({
        url: `ws://127.0.0.1:${port}`,
        port,
        child,
        output: () => output,
        stop: (signal = 'SIGTERM') => {
          child.kill(signal)
          return exited
        },
      })
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    void exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`relay exited (${code}) before listening:\n${output}`))
    })
  })
}
