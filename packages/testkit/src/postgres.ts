/** startPostgres: a real PostgreSQL server in a temp directory, on a free loopback port, for tests. */
import { execFile, execFileSync, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, readdirSync } from 'node:fs'
import { chown, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { freePort } from './run-support.js'
import { systemTool } from './system-tool.js'

/** A running PostgreSQL server owned by the test process. */
export interface TestPostgres {
  /** `postgres://` URL of the server's default database (`postgres`). */
  readonly url: string
  readonly port: number
  /** The server's data directory (removed by `stop`). */
  readonly dataDir: string
  /** Creates a fresh, empty database and resolves with its URL. */
  createDatabase(): Promise<string>
  /** Shuts the server down (`pg_ctl -m fast stop`), keeping its data; `start` brings it back. */
  halt(): Promise<void>
  /** Starts the server again after `halt`, on the same port and data. */
  start(): Promise<void>
  /** `halt` then `start`: every connection is dropped, committed data stays. */
  restart(): Promise<void>
  /** Shuts the server down and removes its data directory. */
  stop(): Promise<void>
}

const run = promisify(execFile)
const SERVER_USER = 'postgres'

/** The directory holding initdb, pg_ctl and postgres: `PG_BIN`, the newest installed, or apt's. */
export const postgresBin = (): string =>
  systemTool({
    name: 'PostgreSQL (initdb)',
    envVar: 'PG_BIN',
    aptPackage: 'postgresql',
    find: () => installedBin(),
  })

const installedBin = (): string | undefined => {
  const root = '/usr/lib/postgresql'
  if (!existsSync(root)) return undefined
  const versions = readdirSync(root)
    .filter((version) => existsSync(join(root, version, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a))
  return versions[0] === undefined ? undefined : join(root, versions[0], 'bin')
}

/**
 * Starts PostgreSQL (binaries from {@link postgresBin}) in a new temp directory: `initdb` with
 * trust authentication on loopback only, `fsync` on, a free port, started with `pg_ctl -w`. As
 * root it runs the server as the `postgres` user (PostgreSQL refuses root). The server stops by
 * itself when this process exits, even when killed: a watchdog shell stops it once the process
 * is gone.
 */
export const startPostgres = async (): Promise<TestPostgres> => {
  const bin = postgresBin()
  const asRoot = process.getuid?.() === 0
  const dir = await mkdtemp(join(tmpdir(), 'weft-postgres-'))
  const dataDir = join(dir, 'data')
  if (asRoot) await chown(dir, ...(await serverIds()))
  // As root, the server's commands run as its user; otherwise as ourselves.
  const asServer = (command: string, args: string[]): [string, string[]] =>
    asRoot
      ? ['runuser', ['-u', SERVER_USER, '--', join(bin, command), ...args]]
      : [join(bin, command), args]
  const exec = async (command: string, args: string[]): Promise<void> => {
    const [file, argv] = asServer(command, args)
    await run(file, argv, { cwd: dir, timeout: 60_000 })
  }
  const port = await freePort()
  // initdb's own files need no fsync (a crashed test discards them); the server's writes do.
  await exec('initdb', ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync'])
  await writeFile(
    join(dataDir, 'postgresql.auto.conf'),
    [
      `port = ${port}`,
      "listen_addresses = '127.0.0.1'",
      `unix_socket_directories = '${dir}'`,
      'fsync = on',
      'synchronous_commit = on',
      'max_connections = 200',
      "shared_buffers = '32MB'",
      'logging_collector = off',
      '',
    ].join('\n'),
  )
  if (asRoot) await chown(join(dataDir, 'postgresql.auto.conf'), ...(await serverIds()))
  const logFile = join(dir, 'server.log')
  const start = (): Promise<void> => exec('pg_ctl', ['-D', dataDir, '-l', logFile, '-w', 'start'])
  const halt = (): Promise<void> => exec('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', 'stop'])
  await start()
  const watchdog = startWatchdog(
    asServer('pg_ctl', ['-D', dataDir, '-m', 'immediate', 'stop']),
    dir,
  )
  // A clean exit stops the server at once; the watchdog covers a killed process.
  const onExit = (): void => {
    try {
      const [file, argv] = asServer('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop'])
      execFileSync(file, argv, { stdio: 'ignore', timeout: 10_000 })
    } catch {
      // Already stopped.
    }
  }
  process.once('exit', onExit)
  let stopped = false
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`
  return {
    url,
    port,
    dataDir,
    createDatabase: async () => {
      const name = `weft_${randomBytes(6).toString('hex')}`
      // Over TCP with trust authentication: any OS user may run it.
      const args = ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', name]
      await run(join(bin, 'createdb'), args, { timeout: 30_000 })
      return `postgres://postgres@127.0.0.1:${port}/${name}`
    },
    halt,
    start,
    restart: async () => {
      await halt()
      await start()
    },
    stop: async () => {
      if (stopped) return
      stopped = true
      process.removeListener('exit', onExit)
      try {
        // Immediate: no shutdown checkpoint to flush for a directory removed next (a fast stop
        // of a busy server can take longer than a test hook may).
        await exec('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop'])
      } finally {
        watchdog.kill('SIGKILL')
        await rm(dir, { recursive: true, force: true })
      }
    },
  }
}

const serverIds = async (): Promise<[number, number]> => {
  const { stdout: uid } = await run('id', ['-u', SERVER_USER])
  const { stdout: gid } = await run('id', ['-g', SERVER_USER])
  return [Number(uid.trim()), Number(gid.trim())]
}

/** A detached shell that stops the server and removes `dir` once this process is gone. */
const startWatchdog = ([file, argv]: [string, string[]], dir: string) => {
  const quote = (word: string): string => `'${word.replaceAll("'", "'\\''")}'`
  const stop = [file, ...argv].map(quote).join(' ')
  const script = `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; ${stop} >/dev/null 2>&1; rm -rf ${quote(dir)}`
  const child = spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' })
  child.unref()
  return child
}
