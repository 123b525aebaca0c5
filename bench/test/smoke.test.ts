import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { BenchResults, WorkloadResults } from '../src/report/results.js'
import type { Cell, Values } from '../src/workloads/types.js'

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url))
/** The first 2,000 patches of automerge-paper end in a 1,812-character text. */
const QUICK_TEXT_CHARS = 1812

let outDir: string
let results: BenchResults[]

/** Runs `pnpm bench --quick` (no peers) for some workloads and returns the JSON it wrote. */
const bench = (name: string, args: readonly string[]): Promise<BenchResults> =>
  new Promise((resolve, reject) => {
    const dir = join(outDir, name)
    execFile(
      process.execPath,
      ['--import', 'tsx', 'bench/src/main.ts', '--quick', '--no-peers', '--out-dir', dir, ...args],
      { cwd: REPO_ROOT, timeout: 170_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error !== null) return reject(new Error(`${error.message}\n${stdout}\n${stderr}`))
        readFile(join(dir, 'quick.json'), 'utf8').then(
          (text) => resolve(JSON.parse(text) as BenchResults),
          reject,
        )
      },
    )
  })

/** Workloads of the second half (many clients, both of Weft's dialects). */
const LOAD_IDS = ['5', '5b', '6', '8', '9', '10']

/** A report from an earlier run, with a paragraph of its own for each workload of that half. */
const KEPT = LOAD_IDS.map(
  (id) =>
    `<!-- limits:${id} -->\n**What limits it:** kept paragraph ${id}.\n<!-- /limits:${id} -->`,
)

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), 'weft-bench-smoke-'))
  await mkdir(join(outDir, 'load'))
  await writeFile(join(outDir, 'load', 'quick.md'), `# old report\n\n${KEPT.join('\n\n')}\n`)
  // Two halves at once (one per core): the trace workloads on Weft's client (with the ones on
  // PostgreSQL and Redis, 11 and 12, the schema check, 13, and the large document, 14), and the
  // many-client workloads on both of Weft's dialects, with the app lifecycle, 15.
  results = await Promise.all([
    bench('trace', ['--only', '1,2,3,4,7,11,12,13,14', '--systems', 'weft-client']),
    bench('load', ['--only', [...LOAD_IDS, '15'].join(',')]),
  ])
}, 180_000)

afterAll(async () => {
  await rm(outDir, { recursive: true, force: true })
})

const workload = (id: string): WorkloadResults => {
  const found = results.flatMap((result) => result.workloads).find((w) => w.id === id)
  if (found === undefined) throw new Error(`workload ${id} missing from the results`)
  return found
}

/** The values of `column` in the only run, failing the test with the recorded error if any. */
const values = (id: string, column: string): Values => {
  const cell: Cell | undefined = workload(id).runs[0]?.[column]
  if (cell === undefined) throw new Error(`workload ${id} has no run for ${column}`)
  if (!cell.ok) throw new Error(`workload ${id}, ${column} failed: ${cell.error}`)
  return cell.values
}

describe('pnpm bench --quick (Weft only)', () => {
  it('runs every workload, once, for every column', () => {
    const ids = results.flatMap((result) => result.workloads.map((w) => w.id)).sort()
    expect(ids).toEqual([
      '1',
      '10',
      '11',
      '12',
      '13',
      '14',
      '15',
      '2',
      '3',
      '4',
      '5',
      '5b',
      '6',
      '7',
      '8',
      '9',
    ])
    for (const w of results.flatMap((result) => result.workloads)) {
      expect(w.runs).toHaveLength(1)
      for (const column of w.columns)
        expect(w.runs[0]![column.id]?.ok, `${w.id} ${column.id}`).toBe(true)
    }
  })

  it('floor: replays the trace prefix to its exact text', () => {
    const floor = values('1', 'yjs')
    expect(floor.correct).toBe(true)
    expect(floor.replayMs).toBeGreaterThan(0)
  })

  it('trace: the reader gets the exact text, the writer gets saved, the relay reloads it', () => {
    const trace = values('2', 'weft-client')
    expect(trace.readerMs).toBeGreaterThan(0)
    expect(trace.savedMs).toBeGreaterThan(0)
    expect(trace.doneMs).toBeGreaterThanOrEqual(trace.readerMs as number)
    expect(trace.serverPeakRssMb).toBeGreaterThan(10)
    const cold = values('3', 'weft-client')
    expect(cold).toMatchObject({
      complete: true,
      syncedEarly: false,
      loadedChars: QUICK_TEXT_CHARS,
    })
    expect(cold.loadMs).toBeGreaterThan(0)
  })

  it('kill -9: nothing acknowledged is lost', () => {
    expect(values('4', 'weft-client')).toMatchObject({
      exact: true,
      lostChars: 0,
      corrupted: false,
      recoveredChars: QUICK_TEXT_CHARS,
    })
  })

  it('fan-out: every update reaches every other client on both dialects, at both rates', () => {
    for (const [id, edits] of [
      ['5', 5 * 20],
      ['5b', 5 * 4],
    ] as const) {
      for (const column of ['weft-client', 'weft-yws']) {
        const fanout = values(id, column)
        expect(fanout, `${id} ${column}`).toMatchObject({ deliveredPct: 100, edits })
        expect(fanout.allP99Ms, `${id} ${column}`).toBeGreaterThan(0)
        expect(fanout.allP99Ms, `${id} ${column}`).toBeLessThan(10_000)
        expect(fanout.relayLagP99Ms, `${id} ${column}`).toBeGreaterThan(0)
      }
    }
  })

  it('many documents: every document is edited and keeps its edit', () => {
    for (const column of ['weft-client', 'weft-yws']) {
      const docs = values('6', column)
      // The relay reports every room unloaded once the clients have left.
      expect(docs, column).toMatchObject({ failures: 0, verifiedPct: 100, roomsAfter: 0 })
      expect(docs.roomsOpen, column).toBe(50)
      expect(docs.docsPerSec, column).toBeGreaterThan(0)
      expect(docs.rssAfterMb, column).toBeGreaterThan(0)
    }
  })

  it('durability: both sync settings complete', () => {
    for (const column of ['weft-sync', 'weft-nosync']) {
      expect(values('7', column).updatesPerSec, column).toBeGreaterThan(0)
    }
    expect(workload('7').targets[0]?.met).not.toBeNull()
  })

  it('connections: every idle connection stays connected', () => {
    expect(values('8', 'weft-client')).toMatchObject({
      connections: 200,
      connectedAtEnd: 200,
      relayConnections: 200,
    })
    expect(values('8', 'weft-client').probeP99Ms).toBeGreaterThan(0)
  })

  it('presence: every view complete, nothing echoed, on both dialects', () => {
    for (const column of ['weft-client', 'weft-yws']) {
      const presence = values('9', column)
      // 40 clients renew once a second; each sees the 19 others of its document.
      expect(presence, column).toMatchObject({
        renewalsPerSec: 40,
        echoes: 0,
        echoedClientsPct: 0,
        latestPct: 100,
        presentPct: 100,
      })
      expect(presence.statesPerClientPerSec, column).toBeGreaterThan(15)
      expect(presence.statesPerClientPerSec, column).toBeLessThanOrEqual(19)
      // Frames were read (a decoder that saw none would also see no echo).
      expect(presence.messagesPerClientPerSec, column).toBeGreaterThan(0)
      expect(presence.messagesPerClientPerSec, column).toBeLessThanOrEqual(
        presence.statesPerClientPerSec as number,
      )
      expect(presence.relayLagP99Ms, column).toBeGreaterThan(0)
      expect(presence.serverCpuPct, column).toBeGreaterThan(0)
    }
    expect(workload('9').targets.find((row) => row.target.includes('echoed'))?.met).toBe(true)
  })

  it('churn: every document saved, every room unloaded after the grace', () => {
    const churn = values('10', 'weft-client')
    // 10 documents a second for 6 s.
    expect(churn).toMatchObject({
      docsDone: 60,
      failures: 0,
      roomsAfterGrace: 0,
      unloadedInGrace: true,
    })
    expect(churn.recycledPct).toBeGreaterThan(0)
    expect(churn.fdsWarm).toBeGreaterThan(0)
    expect(churn.rssWarmMb).toBeGreaterThan(10)
    expect(Number.isFinite(churn.rssGrowthPct)).toBe(true)
    expect(String(churn.rssByTenthMb).split(', ').map(Number)).toHaveLength(10)
    // The relay runs with a 2 s grace in quick mode: the last room goes after about that long.
    expect(churn.unloadedMs).toBeGreaterThanOrEqual(2000)
    expect(workload('10').runs).toHaveLength(1)
  })

  it('fan-out across relays: every update reaches every client, on one relay and on three', () => {
    for (const column of ['level-1', 'postgres-1', 'postgres-3']) {
      const fanout = values('11', column)
      expect(fanout, column).toMatchObject({ deliveredPct: 100, edits: 5 * 20 })
      expect(fanout.deliveryP99Ms, column).toBeGreaterThan(0)
      expect(fanout.deliveryP99Ms, column).toBeLessThan(10_000)
    }
    // Only the PostgreSQL set-ups have a PostgreSQL to measure; three relays use more memory.
    expect(values('11', 'level-1').postgresCpuPct).toBeNull()
    expect(values('11', 'postgres-3').postgresCpuPct).toBeGreaterThan(0)
    expect(values('11', 'postgres-3').serverPeakRssMb).toBeGreaterThan(
      values('11', 'postgres-1').serverPeakRssMb as number,
    )
  })

  it('trace through PostgreSQL: the reader gets the text and the writer gets saved on both stores', () => {
    for (const column of ['weft-level', 'weft-postgres']) {
      const trace = values('12', column)
      expect(trace.readerMs, column).toBeGreaterThan(0)
      expect(trace.savedMs, column).toBeGreaterThan(0)
      expect(trace.updatesPerSec, column).toBeGreaterThan(0)
    }
    // Measured (a number) only where there is a PostgreSQL; the quick trace may use less than one
    // clock tick (10 ms) of its CPU, so zero is a possible measurement here.
    expect(values('12', 'weft-level').postgresCpuMs).toBeNull()
    expect(values('12', 'weft-postgres').postgresCpuMs).toBeGreaterThanOrEqual(0)
  })

  it('schema check: the reader gets the text of the record without a schema, with one, with rules', () => {
    for (const column of ['weft-no-schema', 'weft-schema', 'weft-schema-rules']) {
      const check = values('13', column)
      expect(check.readerMs, column).toBeGreaterThan(0)
      expect(check.savedMs, column).toBeGreaterThan(0)
      expect(check.serverCpuMs, column).toBeGreaterThan(0)
      // The relay counts the time it spends judging writes only where it judges them.
      if (column === 'weft-no-schema') expect(check.checkMs, column).toBe(0)
      else expect(check.checkMs, column).toBeGreaterThan(0)
    }
    // Both checked set-ups are judged against the relay without a schema of the same run.
    const targets = workload('13').targets
    expect(targets.map((row) => row.column)).toEqual([
      'Weft (Weft client), schema',
      'Weft (Weft client), schema + record rules',
    ])
    for (const row of targets) expect(row.met, row.column).not.toBeNull()
  })

  it('large document: the first sync is compressed, a reconnect costs what changed', () => {
    const compressed = values('14', 'weft-compressed')
    const plain = values('14', 'weft-plain')
    expect(plain.firstSyncBytes).toBeGreaterThanOrEqual(plain.docBytes as number)
    expect(compressed.firstSyncBytes).toBeLessThan(0.6 * (plain.firstSyncBytes as number))
    for (const cell of [compressed, plain]) {
      expect(cell.reconnectBytes).toBeLessThan((cell.docBytes as number) / 20)
    }
    expect(compressed.stormP99Ms).toBeGreaterThan(0)
    expect(compressed.stormP99Ms).toBeGreaterThanOrEqual(compressed.stormP50Ms as number)
    expect(compressed.joinsPerSec).toBeGreaterThan(0)
    expect(workload('14').targets.map((row) => row.met)).toEqual([true, true, true])
  })

  it('app lifecycle: back from the background synced, saved and up to date, on both links', () => {
    for (const column of ['weft-loopback', 'weft-mobile']) {
      const lifecycle = values('15', column)
      // Each cycle went offline only after the keep-alive, with the app's edits waiting.
      expect(lifecycle.offlineMs, column).toBeGreaterThanOrEqual(100)
      expect(lifecycle.pending, column).toBeGreaterThan(0)
      // "All of it" waits for the rest, cycle by cycle: its percentiles cannot be lower.
      for (const part of ['syncedP95Ms', 'savedP95Ms', 'receivedP95Ms'])
        expect(lifecycle.doneP95Ms, `${column} ${part}`).toBeGreaterThanOrEqual(
          lifecycle[part] as number,
        )
      expect(lifecycle.doneMaxMs, column).toBeGreaterThanOrEqual(lifecycle.doneP95Ms as number)
      expect(lifecycle.doneP95Ms, column).toBeGreaterThanOrEqual(lifecycle.doneP50Ms as number)
    }
    // Through the link a connection is accepted three round trips (of 100 ms) after the start:
    // the TCP handshake, the upgrade and hello/welcome.
    expect(values('15', 'weft-mobile').connectedP50Ms).toBeGreaterThanOrEqual(290)
    expect(values('15', 'weft-loopback').connectedP50Ms).toBeLessThan(100)
    // Judged, one row per link; whether the target is met is for the report, not this test.
    expect(workload('15').targets.map((row) => row.met === null)).toEqual([false, false])
  })

  it('writes a report with every workload and its targets', async () => {
    const report = await readFile(join(outDir, 'load', 'quick.md'), 'utf8')
    for (const id of LOAD_IDS) expect(report).toContain(`## ${id}. `)
    expect(report).toContain('## Targets')
    expect(report).toContain('<!-- limits:5 -->')
  })
})

describe('the report', () => {
  it('keeps each workload’s "what limits it" paragraph through the writes after each workload', async () => {
    const report = await readFile(join(outDir, 'load', 'quick.md'), 'utf8')
    for (const id of LOAD_IDS) expect(report).toContain(`kept paragraph ${id}.`)
  })
})
