/** The harness side of an agent: a child process that runs client load and answers calls. */
import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { deadline } from '../clock.js'
import { TSX_LOADER, trackChild } from '../servers/server-process.js'
import type { AgentCall, AgentReply } from './protocol.js'

const AGENT_MAIN = fileURLToPath(new URL('./agent-main.ts', import.meta.url))

let profileArgs: readonly string[] = []

/** Makes every agent started from now on write a V8 CPU profile into `dir` when it exits. */
export const profileAgentsInto = (dir: string): void => {
  profileArgs = ['--cpu-prof', `--cpu-prof-dir=${dir}`]
}

/**
 * A client-load process. Each agent is its own process with its own event loop, so writers,
 * readers and the harness never share a thread. Calls are request/response over IPC.
 */
export class Agent {
  readonly name: string
  readonly #child: ChildProcess
  readonly #waiting = new Map<number, { resolve(value: unknown): void; reject(e: Error): void }>()
  readonly #exited: Promise<void>
  #nextId = 1

  private constructor(name: string, child: ChildProcess) {
    this.name = name
    this.#child = child
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()))
    child.on('message', (message: AgentReply) => {
      const waiter = this.#waiting.get(message.id)
      if (waiter === undefined) return
      this.#waiting.delete(message.id)
      if (message.ok) waiter.resolve(message.value)
      else waiter.reject(new Error(`${name}: ${message.error}`))
    })
    child.once('exit', (code, signal) => {
      const error = new Error(`${name} exited (${code ?? signal}) with calls pending`)
      for (const waiter of this.#waiting.values()) waiter.reject(error)
      this.#waiting.clear()
    })
  }

  /** Starts an agent process and resolves once it is ready for calls. */
  static async start(name: string, timeoutMs = 30_000): Promise<Agent> {
    const child = fork(AGENT_MAIN, [name], {
      execArgv: ['--import', TSX_LOADER, ...profileArgs],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    trackChild(child)
    const agent = new Agent(name, child)
    await deadline(agent.call('ping', null), timeoutMs, `${name} did not start`)
    return agent
  }

  /** Starts `count` agents in parallel. */
  static startMany(prefix: string, count: number): Promise<Agent[]> {
    return Promise.all(Array.from({ length: count }, (_, i) => Agent.start(`${prefix}-${i}`)))
  }

  /** The agent's process id. */
  get pid(): number {
    return this.#child.pid ?? -1
  }

  /** Calls `method` in the agent; rejects with the agent's error, or after `timeoutMs`. */
  call<T>(method: string, params: unknown, timeoutMs = 300_000): Promise<T> {
    const id = this.#nextId++
    const answer = new Promise<T>((resolve, reject) => {
      this.#waiting.set(id, { resolve: resolve as (value: unknown) => void, reject })
    })
    const call: AgentCall = { id, method, params }
    this.#child.send(call)
    return deadline(answer, timeoutMs, `${this.name}.${method} timed out`)
  }

  /** This agent's CPU time (user + system) so far, in ms, as the agent itself reports it. */
  cpuMs(): Promise<number> {
    return this.call<number>('cpu', null, 30_000)
  }

  /**
   * Ends the agent and waits for the exit: it is asked to exit (its sockets close with it) and
   * killed with SIGKILL if it has not after `graceMs`.
   */
  async stop(graceMs = 2000): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      const call: AgentCall = { id: 0, method: 'exit', params: null }
      this.#child.send(call, (error) => {
        if (error !== null) this.#child.kill('SIGKILL')
      })
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), graceMs)
      await this.#exited
      clearTimeout(timer)
    }
    await this.#exited
  }
}

/** Stops every agent in `agents`. */
export const stopAll = (agents: readonly Agent[]): Promise<void> =>
  Promise.all(agents.map((agent) => agent.stop())).then(() => undefined)

/** Sum of the agents' CPU ms. */
export const totalCpuMs = async (agents: readonly Agent[]): Promise<number> =>
  (await Promise.all(agents.map((agent) => agent.cpuMs()))).reduce((sum, ms) => sum + ms, 0)
