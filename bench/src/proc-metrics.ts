/** Process metrics read from /proc from outside the process: CPU time, RSS and peak RSS. */
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { delay, nowMs } from './clock.js'

const clockTicksPerSecond = ((): number => {
  try {
    const value = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim())
    return Number.isFinite(value) && value > 0 ? value : 100
  } catch {
    return 100
  }
})()

/** CPU time (user + system) of process `pid` in ms, from /proc/<pid>/stat utime + stime. */
export const readCpuMs = (pid: number): number => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // The command name (field 2) may contain spaces; the fields after it are space separated.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const utime = Number(fields[11])
  const stime = Number(fields[12])
  return ((utime + stime) * 1000) / clockTicksPerSecond
}

/**
 * CPU time in ms of process `pid` and everything under it: its own, that of its children that
 * have exited and been waited for (cutime + cstime), and recursively that of its live children
 * (PostgreSQL's postmaster and its backends, for instance).
 */
export const readTreeCpuMs = (pid: number): number => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const ticks = [11, 12, 13, 14].reduce((sum, index) => sum + Number(fields[index]), 0)
  let childrenMs = 0
  for (const child of childrenOf(pid)) {
    try {
      childrenMs += readTreeCpuMs(child)
    } catch {
      // It exited between the listing and the read; its time is now in our cutime.
    }
  }
  return (ticks * 1000) / clockTicksPerSecond + childrenMs
}

const childrenOf = (pid: number): number[] => {
  try {
    const text = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim()
    return text === '' ? [] : text.split(' ').map(Number)
  } catch {
    return []
  }
}

/** Resident set size and its peak (VmRSS, VmHWM) of process `pid`, in MiB. */
export const readMemoryMb = (pid: number): { rssMb: number; peakRssMb: number } => {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const field = (name: string): number => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)
    return match === null ? Number.NaN : Number(match[1]) / 1024
  }
  return { rssMb: field('VmRSS'), peakRssMb: field('VmHWM') }
}

/** Open file descriptors of process `pid` (sockets, files, pipes): the entries of /proc/<pid>/fd. */
export const countFds = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length

/** This process's own CPU time (user + system) in ms. */
export const ownCpuMs = (): number => {
  const usage = process.cpuUsage()
  return (usage.user + usage.system) / 1000
}

/** CPU used by a process between two points, with the wall time between them. */
export class CpuWindow {
  readonly #pid: number
  readonly #startCpuMs: number
  readonly #startMs: number

  constructor(pid: number) {
    this.#pid = pid
    this.#startCpuMs = readCpuMs(pid)
    this.#startMs = nowMs()
  }

  /** CPU ms since construction, and that as a percentage of one core over the wall time. */
  read(): { cpuMs: number; cpuPct: number } {
    const cpuMs = readCpuMs(this.#pid) - this.#startCpuMs
    const wallMs = Math.max(1, nowMs() - this.#startMs)
    return { cpuMs, cpuPct: (100 * cpuMs) / wallMs }
  }
}

/**
 * Resolves once process `pid` has used less than `maxCpuPct` of a core over a window of
 * `quietMs` (it has finished background work such as persistence), or after `timeoutMs`.
 * Resolves with whether it became idle.
 */
export const waitForIdle = async (
  pid: number,
  { quietMs = 1000, maxCpuPct = 3, timeoutMs = 120_000, stepMs = 250 } = {},
): Promise<boolean> => {
  const started = nowMs()
  const samples: Array<{ at: number; cpuMs: number }> = []
  while (nowMs() - started < timeoutMs) {
    samples.push({ at: nowMs(), cpuMs: readCpuMs(pid) })
    const last = samples[samples.length - 1]!
    const first = samples.find((sample) => last.at - sample.at <= quietMs + stepMs)!
    const span = last.at - first.at
    if (span >= quietMs && (100 * (last.cpuMs - first.cpuMs)) / span < maxCpuPct) return true
    await delay(stepMs)
  }
  return false
}
