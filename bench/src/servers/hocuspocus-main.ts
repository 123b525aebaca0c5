/**
 * Hocuspocus as the benchmark runs it: `@hocuspocus/server` with `@hocuspocus/extension-sqlite`
 * on a file, on 127.0.0.1 and a free port, everything else at its defaults (store debounce
 * 2 s, max 10 s). Prints one JSON line with the port when listening. Usage:
 * `node --import tsx hocuspocus-main.ts <sqlite file>`.
 */
import { SQLite } from '@hocuspocus/extension-sqlite'
import { Server } from '@hocuspocus/server'

const database = process.argv[2]
if (database === undefined) {
  console.error('usage: hocuspocus-main.ts <sqlite file>')
  process.exit(2)
}

const server = new Server({
  name: 'weft-bench',
  port: 0,
  address: '127.0.0.1',
  quiet: true,
  extensions: [new SQLite({ database })],
})
await server.listen()
console.log(JSON.stringify({ msg: 'hocuspocus listening', port: server.address.port }))
