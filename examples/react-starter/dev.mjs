// `npm run dev`: a Weft relay on port 8787 (documents in .weft-data) and Vite's dev server on
// 5173, whose page connects to that relay. Ctrl+C stops both.
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { createServer } from 'vite'

const relayPort = process.env.WEFT_PORT ?? '8787'
const relay = spawn(
  join(import.meta.dirname, 'node_modules', '.bin', 'weft-relay'),
  ['--port', relayPort, '--auth', 'open', '--data', '.weft-data'],
  { stdio: 'inherit' },
)
relay.on('exit', (code) => {
  console.error(`the relay stopped (${code}); stopping`)
  process.exit(code ?? 1)
})

process.env.VITE_WEFT_URL ??= `ws://localhost:${relayPort}`
const vite = await createServer({ root: import.meta.dirname, server: { port: 5173 } })
await vite.listen()
vite.printUrls()
console.log('  Open it in two tabs, or two browsers, and edit in either.')

const stop = async () => {
  relay.removeAllListeners('exit')
  relay.kill('SIGTERM')
  await vite.close()
  process.exit(0)
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
