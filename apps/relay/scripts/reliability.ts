/**
 * `pnpm reliability`: the reliability runs — seeded convergence simulation, crash consistency
 * (SIGKILL aimed inside appends, compactions and unloads), disk-full injection, the Jepsen-style
 * set check, protocol and model fuzzing, and the set check and simulation against three relays on one
 * PostgreSQL and one Redis — and docs/RELIABILITY.md from their figures.
 *
 *   (default)          a few minutes; writes docs/RELIABILITY.md
 *   --long             hundreds of kills, many more seeds (about half an hour)
 *   --only a,b         only these runs: simulation, crash, disk-full, set, fuzz, cluster-set,
 *                      cluster-simulation (report not written)
 *   --seeds a,b | a..b replay exact seeds in the selected runs (report not written)
 *
 * Exits 1 if any run lost an acknowledged edit, diverged, doubled an item or crashed the relay.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  modelFuzzSchemasFile,
  runClusterSetCheck,
  runCrashCheck,
  runDiskFullCheck,
  runModelFuzz,
  runProtocolFuzz,
  runSetCheck,
  runSimulation,
  spawnRelay,
  TEST_SECRET,
  writeToken,
  type ClusterSetCheckResult,
  type CrashCheckResult,
  type DiskFullCheckResult,
  type ProtocolFuzzResult,
  type SetCheckResult,
  type SimulationResult,
} from '@weft/testkit'
import { format } from 'prettier'
import { renderReport, type ReliabilityRun } from './reliability-report.js'

const RUNS = [
  'simulation',
  'crash',
  'disk-full',
  'set',
  'fuzz',
  'cluster-set',
  'cluster-simulation',
] as const
type RunName = (typeof RUNS)[number]

const args = process.argv.slice(2)
const flag = (name: string): string | undefined => {
  const at = args.indexOf(name)
  return at >= 0 ? args[at + 1] : undefined
}
const long = args.includes('--long')
const only = flag('--only')?.split(',') ?? [...RUNS]
for (const name of only) {
  if (!(RUNS as readonly string[]).includes(name)) {
    console.error(`--only: unknown run "${name}"; choose from ${RUNS.join(', ')}`)
    process.exit(2)
  }
}
const parseSeeds = (text: string): number[] => {
  const range = /^(\d+)\.\.(\d+)$/.exec(text)
  if (range !== null) {
    const [from, to] = [Number(range[1]), Number(range[2])]
    return Array.from({ length: to - from + 1 }, (_, index) => from + index)
  }
  return text.split(',').map((seed) => Number.parseInt(seed, 10))
}
const givenSeeds = flag('--seeds') === undefined ? null : parseSeeds(flag('--seeds') as string)
if (givenSeeds?.some((seed) => !Number.isSafeInteger(seed))) {
  console.error('--seeds takes integers: 1,2,3 or 100..199')
  process.exit(2)
}
const randomSeed = (): number => Math.floor(Math.random() * 2 ** 31)
const seedsFor = (count: number, consecutive = false): number[] => {
  if (givenSeeds !== null) return givenSeeds
  const base = randomSeed()
  return Array.from({ length: count }, (_, index) => (consecutive ? base + index : randomSeed()))
}
const selected = (name: RunName): boolean => only.includes(name)

const sizes = long
  ? {
      simulation: { seeds: 200, steps: 500 },
      crash: { seeds: 1, kills: 300 },
      diskFull: { seeds: 10, windows: 5 },
      set: { seeds: 30, clients: 5, itemsPerClient: 200, kills: 6 },
      fuzz: 20_000,
      modelFuzz: 2_000,
      clusterSet: { seeds: 10, clients: 5, itemsPerClient: 200, kills: 6 },
      clusterSimulation: { seeds: 20, steps: 500 },
    }
  : {
      simulation: { seeds: 20, steps: 300 },
      crash: { seeds: 1, kills: 24 },
      diskFull: { seeds: 3, windows: 3 },
      set: { seeds: 5, clients: 3, itemsPerClient: 100, kills: 3 },
      fuzz: 2_000,
      modelFuzz: 200,
      clusterSet: { seeds: 3, clients: 3, itemsPerClient: 100, kills: 3 },
      clusterSimulation: { seeds: 3, steps: 300 },
    }
const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url))
const OUT = fileURLToPath(new URL('../../../docs/RELIABILITY.md', import.meta.url))
const command = `npx -y pnpm@12.4.2 reliability${long ? ' --long' : ''}`
const log = (name: string, result: object): void =>
  console.log(`[reliability] ${name}: ${JSON.stringify(result)}`)

const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim()

const run: ReliabilityRun = {
  long,
  command,
  commit,
  sizes,
  simulation: [],
  crash: [],
  diskFull: [],
  set: [],
  fuzz: null,
  modelFuzz: null,
  clusterSet: [],
  clusterSimulation: [],
}
const failures: string[] = []

if (selected('simulation')) {
  for (const seed of seedsFor(sizes.simulation.seeds, true)) {
    const result: SimulationResult = await runSimulation({ seed, steps: sizes.simulation.steps })
    run.simulation.push(result)
    const { trace: _trace, ...figures } = result
    log('simulation', figures)
    if (result.failures.length > 0) {
      failures.push(`simulation seed ${seed}: ${result.failures.slice(0, 5).join('; ')}`)
      console.error(
        [
          `[reliability] simulation seed ${seed} FAILED — replay: ${command} --only simulation --seeds ${seed}`,
          ...result.failures,
          'last moves:',
          ...result.trace.slice(-20),
        ].join('\n'),
      )
    }
  }
}

if (selected('crash')) {
  for (const seed of seedsFor(sizes.crash.seeds)) {
    const result: CrashCheckResult = await runCrashCheck({
      relayMain: MAIN,
      seed,
      kills: sizes.crash.kills,
    })
    run.crash.push(result)
    log('crash', result)
    if (result.lost + result.duplicates > 0)
      failures.push(`crash seed ${seed}: ${result.lost} lost, ${result.duplicates} doubled`)
  }
}

if (selected('disk-full')) {
  for (const seed of seedsFor(sizes.diskFull.seeds)) {
    const result: DiskFullCheckResult = await runDiskFullCheck({
      seed,
      windows: sizes.diskFull.windows,
    })
    run.diskFull.push(result)
    log('disk-full', result)
    if (result.lost + result.acknowledgedUnwritten > 0)
      failures.push(
        `disk-full seed ${seed}: ${result.lost} lost, ${result.acknowledgedUnwritten} acknowledged unwritten`,
      )
  }
}

if (selected('set')) {
  const { seeds: _count, ...setSizes } = sizes.set
  for (const seed of seedsFor(sizes.set.seeds)) {
    const result: SetCheckResult = await runSetCheck({ relayMain: MAIN, seed, ...setSizes })
    run.set.push(result)
    log('set', result)
    if (result.lost + result.unexpected + result.duplicates > 0)
      failures.push(`set seed ${seed}: ${JSON.stringify(result)}`)
  }
}

if (selected('fuzz')) {
  const [seed] = seedsFor(1) as [number]
  const fuzzDir = mkdtempSync(join(tmpdir(), 'weft-fuzz-'))
  const fuzzRelay = await spawnRelay(MAIN, fuzzDir)
  const result: ProtocolFuzzResult = await runProtocolFuzz({
    url: `ws://127.0.0.1:${fuzzRelay.port}`,
    seed,
    executions: sizes.fuzz,
    doc: 'fuzzed',
  })
  const status = readFileSync(`/proc/${fuzzRelay.child.pid}/status`, 'utf8')
  const peakRssMiB = Math.round(Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024)
  const crashes = fuzzRelay.child.exitCode === null ? 0 : 1
  await fuzzRelay.stop()
  rmSync(fuzzDir, { recursive: true, force: true })
  run.fuzz = { ...result, peakRssMiB, crashes }
  log('fuzz', run.fuzz)
  if (crashes > 0) failures.push(`fuzz seed ${seed}: the relay crashed`)

  // Updates that look like the model's writes but break the schema or the record rules.
  const modelDir = mkdtempSync(join(tmpdir(), 'weft-model-fuzz-'))
  const schemasFile = join(modelDir, 'schemas.json')
  writeFileSync(schemasFile, JSON.stringify(modelFuzzSchemasFile('boards/*')))
  const modelRelay = await spawnRelay(MAIN, join(modelDir, 'data'), [
    '--auth',
    'jwt',
    '--jwt-secret',
    TEST_SECRET,
    '--schemas-file',
    schemasFile,
  ])
  const modelResult = await runModelFuzz({
    url: `ws://127.0.0.1:${modelRelay.port}`,
    httpUrl: `http://127.0.0.1:${modelRelay.port}`,
    seed,
    executions: sizes.modelFuzz,
    doc: 'boards/fuzzed',
    token: (sub) => writeToken(sub),
  })
  const modelCrashes = modelRelay.child.exitCode === null ? 0 : 1
  await modelRelay.stop()
  rmSync(modelDir, { recursive: true, force: true })
  run.modelFuzz = { ...modelResult, crashes: modelCrashes }
  log('model-fuzz', run.modelFuzz)
  if (modelCrashes > 0) failures.push(`model fuzz seed ${seed}: the relay crashed`)
  if (modelResult.accepted.length > 0)
    failures.push(`model fuzz seed ${seed}: took ${modelResult.accepted.join('; ')}`)
  if (modelResult.damage.length > 0)
    failures.push(`model fuzz seed ${seed}: ${modelResult.damage.join('; ')}`)
}

if (selected('cluster-set')) {
  const { seeds: _count, ...setSizes } = sizes.clusterSet
  for (const seed of seedsFor(sizes.clusterSet.seeds)) {
    const result: ClusterSetCheckResult = await runClusterSetCheck({
      relayMain: MAIN,
      seed,
      ...setSizes,
    })
    run.clusterSet.push(result)
    log('cluster-set', result)
    if (result.lost + result.unexpected + result.duplicates + result.divergences > 0)
      failures.push(`cluster-set seed ${seed}: ${JSON.stringify(result)}`)
  }
}

if (selected('cluster-simulation')) {
  const { steps } = sizes.clusterSimulation
  // Every seed kills a relay at least twice, besides the seeded restarts.
  const relayRestartSteps = [Math.round(steps / 3), Math.round((2 * steps) / 3)]
  for (const seed of seedsFor(sizes.clusterSimulation.seeds, true)) {
    const result = await runSimulation({
      seed,
      steps,
      cluster: { relayMain: MAIN },
      relayRestartSteps,
    })
    run.clusterSimulation.push(result)
    const { trace: _trace, ...figures } = result
    log('cluster-simulation', figures)
    if (result.failures.length > 0) {
      failures.push(`cluster-simulation seed ${seed}: ${result.failures.slice(0, 5).join('; ')}`)
      console.error(
        [
          `[reliability] cluster-simulation seed ${seed} FAILED — replay: ${command} --only cluster-simulation --seeds ${seed}`,
          ...result.failures,
          'last moves:',
          ...result.trace.slice(-20),
        ].join('\n'),
      )
    }
  }
}

if (givenSeeds === null && only.length === RUNS.length) {
  // Formatted as the repository's Prettier check expects.
  const markdown = await format(renderReport(run, new Date()), {
    parser: 'markdown',
    proseWrap: 'preserve',
  })
  writeFileSync(OUT, markdown)
  console.log(`[reliability] wrote ${OUT}`)
} else {
  console.log('[reliability] partial run (--only or --seeds): docs/RELIABILITY.md left as it is')
}
for (const failure of failures) console.error(`[reliability] FAILED ${failure}`)
process.exit(failures.length > 0 ? 1 : 0)
