/** An agent process: answers the harness's calls with the methods of every role. */
import { ownCpuMs } from '../proc-metrics.js'
import type { AgentCall, AgentReply } from './protocol.js'
import { bigDocMethods, stormMethods } from './roles/big-doc.js'
import { churnMethods } from './roles/churn.js'
import { docSessionMethods } from './roles/doc-session.js'
import { fanoutMethods } from './roles/fanout.js'
import { floorMethods } from './roles/floor.js'
import { idleConnectionMethods } from './roles/idle-connections.js'
import { lifecycleMethods } from './roles/lifecycle.js'
import { manyDocsMethods } from './roles/many-docs.js'
import type { Methods } from './roles/methods.js'
import { paperMethods } from './roles/paper.js'
import { presenceMethods } from './roles/presence.js'
import { textWatchMethods } from './roles/text-watch.js'
import { traceStoreMethods } from './roles/trace-store.js'
import { traceWriterMethods } from './roles/trace-writer.js'

const methods: Methods = {
  ping: async () => null,
  cpu: async () => ownCpuMs(),
  exit: async () => process.exit(0),
  ...docSessionMethods,
  ...traceStoreMethods,
  ...traceWriterMethods,
  ...paperMethods,
  ...bigDocMethods,
  ...stormMethods,
  ...textWatchMethods,
  ...fanoutMethods,
  ...manyDocsMethods,
  ...idleConnectionMethods,
  ...presenceMethods,
  ...churnMethods,
  ...floorMethods,
  ...lifecycleMethods,
}

const reply = (message: AgentReply): void => {
  process.send?.(message)
}

process.on('message', (call: AgentCall) => {
  const method = methods[call.method]
  if (method === undefined) {
    reply({ id: call.id, ok: false, error: `unknown method ${call.method}` })
    return
  }
  method(call.params).then(
    (value) => reply({ id: call.id, ok: true, value }),
    (error: unknown) =>
      reply({ id: call.id, ok: false, error: (error as Error).stack ?? String(error) }),
  )
})

// y-websocket's provider adds a process 'exit' listener per provider; hundreds are expected here.
process.setMaxListeners(0)
// The harness is gone: nothing is left to report to.
process.on('disconnect', () => process.exit(0))
// Clients reconnecting to a server that was killed on purpose must not end the agent.
process.on('unhandledRejection', (error) => {
  console.error(`agent ${process.argv[2] ?? ''}: unhandled rejection`, error)
})
