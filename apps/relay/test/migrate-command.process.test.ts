/**
 * `weft-relay migrate` as an operator runs it: a relay process on LevelDB takes edits and stops,
 * `main.ts migrate` copies its data directory into a real PostgreSQL (refusing while the relay
 * still holds the directory), and a relay process on `--store postgres` serves the same documents
 * and change feed, going on from where the LevelDB relay left off.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { createClient, type WeftClient } from '@weft/client'
import { spawnRelay, startPostgres, type RelayProcess, type TestPostgres } from '@weft/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url))
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href

let server: TestPostgres
let dir: string
const clients: WeftClient[] = []
const relays: RelayProcess[] = []

beforeAll(async () => {
  server = await startPostgres()
  dir = await mkdtemp(join(tmpdir(), 'weft-migrate-process-'))
}, 120_000)

afterAll(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()))
  for (const relay of relays)
    if (relay.child.exitCode === null && relay.child.signalCode === null)
      await relay.stop('SIGKILL')
  await server?.stop()
  await rm(dir, { recursive: true, force: true })
})

/** Runs `main.ts` with `args` and `env` to completion. */
const runMain = (
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; output: string }> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', TSX, MAIN, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.once('close', (code) => resolve({ code, output }))
  })

const start = async (data: string, args: string[]): Promise<RelayProcess> => {
  const relay = await spawnRelay(MAIN, data, args)
  relays.push(relay)
  return relay
}

const clientOf = (relay: RelayProcess): WeftClient => {
  const client = createClient({ url: relay.url, WebSocket })
  clients.push(client)
  return client
}

/** The relay's whole change feed, as `/v1/feed` serves it. */
const feedOf = async (relay: RelayProcess): Promise<Array<Record<string, unknown>>> => {
  const response = await fetch(`http://127.0.0.1:${relay.port}/v1/feed?after=0&limit=1000`)
  expect(response.status).toBe(200)
  return ((await response.json()) as { events: Array<Record<string, unknown>> }).events
}

/** Lines of a JSON log with message `msg`. */
const logged = (output: string, msg: string): Array<Record<string, unknown>> =>
  output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line['msg'] === msg)

describe('weft-relay migrate, run as a command', () => {
  it("moves a stopped LevelDB relay's documents and feed into PostgreSQL, served by a relay on --store postgres", async () => {
    const data = join(dir, 'level')
    const url = await server.createDatabase()
    // Compacting after 4 updates gives `notes` a snapshot as well as log records to copy.
    const level = await start(data, ['--compact-after-updates', '4', '--history-ms', '600000'])
    const writer = clientOf(level)
    const notes = writer.open('notes')
    const board = writer.open('boards/one')
    await Promise.all([notes.whenSynced(), board.whenSynced()])
    for (const word of ['one ', 'two ', 'three ', 'four ', 'five ', 'six']) {
      notes.doc.getText('t').insert(notes.doc.getText('t').length, word)
      await notes.whenSaved()
    }
    board.doc.getMap('m').set('title', 'roadmap')
    board.doc.getMap('m').set('owner', 'ada')
    await board.whenSaved()
    const feedBefore = await feedOf(level)
    expect(feedBefore.map((event) => event['doc'])).toContain('boards/one')

    // The relay still holds its LevelDB directory: migrate refuses it and writes nothing.
    const busy = await runMain(['migrate', '--data', data], { WEFT_POSTGRES_URL: url })
    expect(busy.code, busy.output).toBe(1)
    expect(logged(busy.output, 'migrate failed')).toHaveLength(1)

    await Promise.all(clients.splice(0).map((client) => client.close()))
    expect(await level.stop('SIGTERM')).toBe(0)

    // Flags for the directory, the WEFT_POSTGRES_URL variable for the secret URL.
    const run = await runMain(['migrate', '--data', data], { WEFT_POSTGRES_URL: url })
    expect(run.code, run.output).toBe(0)
    expect(logged(run.output, 'migrate: verified')).toEqual([expect.objectContaining({ docs: 2 })])
    expect(logged(run.output, 'migrated')).toEqual([
      expect.objectContaining({ docs: 2, skipped: 0, feedEntries: feedBefore.length }),
    ])
    expect(run.output).not.toContain(url)

    const postgres = await start(join(dir, 'unused'), [
      '--store',
      'postgres',
      '--postgres-url',
      url,
      '--history-ms',
      '600000',
    ])
    expect(await feedOf(postgres)).toEqual(feedBefore)
    const reader = clientOf(postgres)
    const [notesThere, boardThere] = [reader.open('notes'), reader.open('boards/one')]
    await Promise.all([notesThere.whenSynced(), boardThere.whenSynced()])
    expect(notesThere.doc.getText('t').toString()).toBe('one two three four five six')
    expect(boardThere.doc.getMap('m').toJSON()).toEqual({ title: 'roadmap', owner: 'ada' })

    // Writes go on from the copied sequence numbers and feed positions.
    notesThere.doc.getText('t').insert(0, '> ')
    await notesThere.whenSaved()
    const feedAfter = await feedOf(postgres)
    const last = feedBefore.at(-1)!
    const lastNotes = feedBefore.filter((event) => event['doc'] === 'notes').at(-1)!
    expect(feedAfter.slice(0, feedBefore.length)).toEqual(feedBefore)
    expect(feedAfter.at(-1)).toMatchObject({
      doc: 'notes',
      position: Number(last['position']) + 1,
      seq: Number(lastNotes['seq']) + 1,
    })

    await Promise.all(clients.splice(0).map((client) => client.close()))
    expect(await postgres.stop('SIGTERM')).toBe(0)

    // Run again by mistake, it refuses to copy the old directory over the newer edit.
    const again = await runMain(['migrate', '--data', data], { WEFT_POSTGRES_URL: url })
    expect(again.code, again.output).toBe(1)
    expect(
      logged(again.output, 'migrate: the target holds different data; give --force to replace it'),
    ).toHaveLength(1)
  }, 120_000)
})
