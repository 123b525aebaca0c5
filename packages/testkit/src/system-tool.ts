/**
 * systemTool: finds a program the tests need from the machine (Chromium, redis-server,
 * PostgreSQL), or installs its Debian package with apt-get when it is missing (as root, or through
 * `sudo -n`), so a fresh CI machine needs no setup step of its own.
 */
import { execFileSync } from 'node:child_process'

/** Where a tool comes from and how it is named in errors. */
export interface SystemToolSpec {
  /** What to call it in messages, e.g. `redis-server`. */
  readonly name: string
  /** A variable that names the tool's path and wins over everything else. */
  readonly envVar: string
  /** The Debian package that provides it. */
  readonly aptPackage: string
  /** Finds the installed tool's path, or `undefined` when it is not installed. */
  readonly find: () => string | undefined
}

/** The tool's path: `spec.envVar`, what `spec.find` finds, or what apt-get installs. */
export const systemTool = (spec: SystemToolSpec): string => {
  const fromEnv = process.env[spec.envVar]
  if (fromEnv) return fromEnv
  const found = spec.find()
  if (found !== undefined) return found
  const asRoot = process.getuid?.() === 0
  const run = (args: string[]): void => {
    const [command, ...rest] = asRoot ? args : ['sudo', '-n', ...args]
    execFileSync(command as string, rest, { stdio: 'inherit', timeout: 600_000 })
  }
  try {
    run(['apt-get', 'update'])
    run(['apt-get', 'install', '-y', spec.aptPackage])
  } catch (cause) {
    throw new Error(
      `${spec.name} is missing and apt-get could not install it: install the ${spec.aptPackage} ` +
        `package or set ${spec.envVar}`,
      { cause },
    )
  }
  const installed = spec.find()
  if (installed === undefined) {
    throw new Error(`apt-get installed ${spec.aptPackage} but no ${spec.name} was found`)
  }
  return installed
}
