/** docs/RELIABILITY.md from the figures of one `pnpm reliability` run. */
import { cpus } from 'node:os'
import type {
  ClusterSetCheckResult,
  CrashCheckResult,
  DiskFullCheckResult,
  ModelFuzzResult,
  ProtocolFuzzResult,
  SetCheckResult,
  SimulationResult,
} from '@weft/testkit'
import { renderClusterSection } from './reliability-report-cluster.js'
import { bold, percentile, seedList, sum, table } from './report-markdown.js'

/** Everything one run measured. */
export interface ReliabilityRun {
  readonly long: boolean
  readonly command: string
  /** `git rev-parse --short HEAD` when the run started. */
  readonly commit: string
  readonly sizes: {
    readonly simulation: { readonly seeds: number; readonly steps: number }
    readonly crash: { readonly seeds: number; readonly kills: number }
    readonly diskFull: { readonly seeds: number; readonly windows: number }
    readonly set: {
      readonly seeds: number
      readonly clients: number
      readonly itemsPerClient: number
      readonly kills: number
    }
    readonly fuzz: number
    readonly modelFuzz: number
    readonly clusterSet: {
      readonly seeds: number
      readonly clients: number
      readonly itemsPerClient: number
      readonly kills: number
    }
    readonly clusterSimulation: { readonly seeds: number; readonly steps: number }
  }
  readonly simulation: SimulationResult[]
  readonly crash: CrashCheckResult[]
  readonly diskFull: DiskFullCheckResult[]
  readonly set: SetCheckResult[]
  fuzz: (ProtocolFuzzResult & { peakRssMiB: number; crashes: number }) | null
  modelFuzz: (ModelFuzzResult & { crashes: number }) | null
  readonly clusterSet: ClusterSetCheckResult[]
  readonly clusterSimulation: SimulationResult[]
}

/** The Markdown report. */
export const renderReport = (run: ReliabilityRun, at: Date): string => {
  const { command, sizes } = run
  const reproduce = (name: string, seeds: readonly number[]): string =>
    `\`${command} --only ${name} --seeds ${seedList(seeds)}\``
  const sim = run.simulation
  const simFaults = (key: keyof SimulationResult['faults']): number =>
    sum(sim, (result) => result.faults[key])
  const simSeeds = sim.map((result) => result.seed)
  const crashSeeds = run.crash.map((result) => result.seed)
  const diskSeeds = run.diskFull.map((result) => result.seed)
  const setSeeds = run.set.map((result) => result.seed)
  const phases = (['append', 'compaction', 'unload', 'anywhere'] as const).map(
    (phase) =>
      `${phase} ${sum(run.crash, (result) => result.byPhase[phase].landed)}/${sum(run.crash, (result) => result.byPhase[phase].aimed)}`,
  )
  const fuzz = run.fuzz
  const model = run.modelFuzz

  const summary = table(
    [
      'run',
      'seeds × operations',
      'faults injected',
      'kills',
      'lost (must be 0)',
      'divergences, duplicates (must be 0)',
      'crashes (must be 0)',
      'reproduce',
    ],
    [
      [
        'convergence simulation',
        `${sim.length} × ${sizes.simulation.steps} steps (${sum(sim, (result) => result.edits)} edits)`,
        `${simFaults('cuts')} cuts, ${simFaults('lost')} frames lost, ${simFaults('duplicated')} duplicated, ${simFaults('reordered')} reordered, ${simFaults('partitions')} partitions, ${simFaults('clientRestarts')} client and ${simFaults('relayRestarts')} relay restarts`,
        '—',
        bold(sum(sim, (result) => result.lost)),
        bold(sum(sim, (result) => result.divergences)),
        '—',
        reproduce('simulation', simSeeds),
      ],
      [
        'crash consistency',
        `${run.crash.length} × ${sizes.crash.kills + 1} kills (${sum(run.crash, (result) => result.writes)} writes)`,
        `SIGKILL landed inside: ${phases.join(', ')}`,
        sum(run.crash, (result) => result.kills),
        bold(sum(run.crash, (result) => result.lost)),
        bold(sum(run.crash, (result) => result.duplicates)),
        '—',
        reproduce('crash', crashSeeds),
      ],
      [
        'disk-full injection',
        `${run.diskFull.length} × ${sizes.diskFull.windows} full windows (${sum(run.diskFull, (result) => result.writes)} writes)`,
        `${sum(run.diskFull, (result) => result.refusedWrites)} store writes refused with ENOSPC`,
        '—',
        `${bold(sum(run.diskFull, (result) => result.lost))} (acknowledged but unwritten: ${bold(sum(run.diskFull, (result) => result.acknowledgedUnwritten))})`,
        '—',
        '—',
        reproduce('disk-full', diskSeeds),
      ],
      [
        'set check',
        `${run.set.length} × ${sizes.set.clients * sizes.set.itemsPerClient} adds`,
        'delays 0–20 ms, 2% duplicated, 2% reordered frames',
        sum(run.set, (result) => result.kills + 1),
        bold(sum(run.set, (result) => result.lost)),
        `${bold(sum(run.set, (result) => result.unexpected))} unexpected, ${bold(sum(run.set, (result) => result.duplicates))} duplicates`,
        '—',
        reproduce('set', setSeeds),
      ],
      [
        'protocol fuzzing',
        fuzz === null ? '—' : `1 × ${fuzz.executions} frames`,
        '90% mutated frames, 10% random bytes, both dialects',
        '—',
        '—',
        '—',
        fuzz === null ? '—' : bold(fuzz.crashes),
        fuzz === null ? '—' : reproduce('fuzz', [fuzz.seed]),
      ],
      [
        'model fuzzing',
        model === null ? '—' : `1 × ${model.executions} updates`,
        'schema-valid-looking updates that break the schema or the record rules',
        '—',
        '—',
        model === null ? '—' : `${bold(model.accepted.length)} taken`,
        model === null ? '—' : bold(model.crashes),
        model === null ? '—' : reproduce('fuzz', [model.seed]),
      ],
    ],
  )

  const simRows = sim.map((result) => [
    result.seed,
    result.edits,
    result.acknowledged,
    result.faults.delivered,
    result.faults.cuts,
    result.faults.lost,
    result.faults.duplicated,
    result.faults.reordered,
    result.faults.partitions,
    result.faults.clientRestarts,
    result.faults.relayRestarts,
    result.lost,
    result.divergences,
    result.convergeMs,
    `\`${result.traceHash}\``,
  ])
  const simHeader = [
    'seed',
    'edits',
    'acknowledged',
    'frames delivered',
    'cuts',
    'frames lost',
    'duplicated',
    'reordered',
    'partitions',
    'client restarts',
    'relay restarts',
    'lost edits',
    'divergences',
    'heal → converged (ms)',
    'trace hash',
  ]
  const simTotals = [
    '**all**',
    sum(sim, (result) => result.edits),
    sum(sim, (result) => result.acknowledged),
    simFaults('delivered'),
    simFaults('cuts'),
    simFaults('lost'),
    simFaults('duplicated'),
    simFaults('reordered'),
    simFaults('partitions'),
    simFaults('clientRestarts'),
    simFaults('relayRestarts'),
    bold(sum(sim, (result) => result.lost)),
    bold(sum(sim, (result) => result.divergences)),
    `p50 ${percentile(
      sim.map((result) => result.convergeMs),
      50,
    )} / p99 ${percentile(
      sim.map((result) => result.convergeMs),
      99,
    )}`,
    '',
  ]
  const simTable = table(simHeader, sim.length <= 30 ? [...simRows, simTotals] : [simTotals])

  const crashTable = table(
    [
      'seed',
      'kills',
      'inside append',
      'inside compaction',
      'inside unload',
      'anywhere',
      'writes',
      'acknowledged',
      'reads after restart',
      'lost (must be 0)',
      'duplicates (must be 0)',
      'reproduce',
    ],
    run.crash.map((result) => [
      result.seed,
      result.kills,
      `${result.byPhase.append.landed}/${result.byPhase.append.aimed}`,
      `${result.byPhase.compaction.landed}/${result.byPhase.compaction.aimed}`,
      `${result.byPhase.unload.landed}/${result.byPhase.unload.aimed}`,
      `${result.byPhase.anywhere.landed}/${result.byPhase.anywhere.aimed}`,
      result.writes,
      result.acknowledged,
      result.verifications,
      bold(result.lost),
      bold(result.duplicates),
      reproduce('crash', [result.seed]),
    ]),
  )

  const diskTable = table(
    [
      'seed',
      'full windows',
      'writes',
      'store writes refused',
      'client errors (retryable)',
      'acknowledged but unwritten (must be 0)',
      'lost (must be 0)',
      'space back → all saved (ms)',
      'reproduce',
    ],
    run.diskFull.map((result) => [
      result.seed,
      result.windows,
      result.writes,
      result.refusedWrites,
      `${result.clientErrors} (${result.retryableErrors})`,
      bold(result.acknowledgedUnwritten),
      bold(result.lost),
      result.resumeMs,
      reproduce('disk-full', [result.seed]),
    ]),
  )

  const setTable = table(
    [
      'seed',
      'adds',
      'ok',
      'lost (must be 0)',
      'unknown, present',
      'unknown, absent',
      'unexpected (must be 0)',
      'duplicates (must be 0)',
      'kills',
      'add → saved p50 / p99 (ms)',
      'add → at every writer p50 / p99 (ms)',
      'reproduce',
    ],
    [
      ...run.set.map((result) => [
        result.seed,
        result.attempted,
        result.ok,
        result.lost,
        result.recoveredUnknown,
        result.unknownAbsent,
        result.unexpected,
        result.duplicates,
        result.kills + 1,
        `${result.savedP50Ms} / ${result.savedP99Ms}`,
        `${result.convergeP50Ms} / ${result.convergeP99Ms}`,
        reproduce('set', [result.seed]),
      ]),
      [
        '**all**',
        sum(run.set, (result) => result.attempted),
        sum(run.set, (result) => result.ok),
        bold(sum(run.set, (result) => result.lost)),
        sum(run.set, (result) => result.recoveredUnknown),
        sum(run.set, (result) => result.unknownAbsent),
        bold(sum(run.set, (result) => result.unexpected)),
        bold(sum(run.set, (result) => result.duplicates)),
        sum(run.set, (result) => result.kills + 1),
        '',
        '',
        '',
      ],
    ],
  )

  const fuzzTable =
    fuzz === null
      ? ''
      : table(
          [
            'seed',
            'executions',
            'crashes (must be 0)',
            'sockets the relay closed',
            'slowest answer after a fuzzed frame (ms)',
            'relay peak RSS (MiB)',
            'reproduce',
          ],
          [
            [
              fuzz.seed,
              fuzz.executions,
              bold(fuzz.crashes),
              fuzz.closedSockets,
              fuzz.worstResponseMs,
              fuzz.peakRssMiB,
              reproduce('fuzz', [fuzz.seed]),
            ],
          ],
        )

  const modelTable =
    model === null
      ? ''
      : table(
          [
            'seed',
            'updates',
            'taken (must be 0)',
            'refused FORBIDDEN',
            'refused SCHEMA_VIOLATION',
            'kept aside on the device',
            "owner's edits between them",
            'damage (must be none)',
            'crashes (must be 0)',
            'reproduce',
          ],
          [
            [
              model.seed,
              model.executions,
              bold(model.accepted.length),
              model.refused['FORBIDDEN'] ?? 0,
              model.refused['SCHEMA_VIOLATION'] ?? 0,
              model.keptAside,
              model.honestEdits,
              model.damage.length === 0 ? 'none' : `**${model.damage.join('; ')}**`,
              bold(model.crashes),
              reproduce('fuzz', [model.seed]),
            ],
          ],
        )

  return `# Weft reliability

<!-- Generated by \`pnpm reliability\`; do not edit by hand. -->

"Acknowledged means on disk, and no edit is ever lost", checked five ways on one relay, and two of them again on three relays sharing PostgreSQL and Redis. Generated ${at.toISOString()} by \`${command}\` on ${cpus().length} cores, Node ${process.version}. \`pnpm reliability\` takes a few minutes; \`--long\` runs hundreds of kills and ten times the seeds. Every row names the command that replays it; \`--only\` and \`--seeds\` select runs and seeds without rewriting this file.

## Summary

${summary}

## Convergence simulation

${sizes.simulation.steps} scheduler steps per seed, in one process: 3 Weft clients (each with a local store kept across its restarts) and 1 stock y-websocket client (\`WebsocketProvider\`) edit one document through the real relay on LevelDB, over real \`ws\` sockets to the relay. Every frame waits in a queue until the seeded scheduler moves it. Each step is one of: deliver a queued frame (10% of relay → client deliveries take the second frame first, 5% of deliveries leave the frame queued to be delivered again), open a pending connection, edit (text insert/delete, map set/delete, array insert, append-only \`seen\` keys, document-model record create/update with a seeded clock), cut a connection (its queued frames are lost: TCP cannot lose a frame without losing the connection), partition or heal a client, restart a Weft client from its local store, or restart the relay on the same LevelDB. After each step the scheduler waits until the relay is durable and idle and every answer is queued, so a seed replays the same moves and the same final state (the trace hash). Then every partition heals and all traffic flows in order until every client is synced with an empty outbox.

Checks at quiescence: the same state vector and content in every client and in the relay's stored copy; no pending structs or deletions anywhere; every edit (acknowledged or still in an outbox) covered by the final state vector, every append-only mark present exactly once, every created record present. Reproduce one seed with \`${command} --only simulation --seeds <seed>\` (\`WEFT_SEED=<seed> npx vitest run packages/testkit/test/simulation.test.ts\` runs the same seed at the test's 300 steps); \`pnpm test\` runs seeds 1–3 and an exact-replay check.

${simTable}

## Crash consistency

3 Weft clients write unique items in bursts to 4 documents (leaving each document after a burst, so rooms unload) through a relay process started with \`--compact-after-updates 10 --unload-grace-ms 1 --log-level debug\`. Each kill is aimed in turn: at the moment the relay logs that it started an append (group commit), a compaction or an unload, SIGKILL goes out; it counts as landed inside when the phase's end was never logged. Every fourth kill is at a random moment. After each restart on the same LevelDB, a fresh client reads every document and compares it with the record of acknowledged writes. \`pnpm test\` runs 4 kills (apps/relay/test/crash-check.test.ts).

${crashTable}

## Disk-full injection

3 Weft clients write to one document on a relay in this process whose LevelDB store fails every append and compaction with ENOSPC during seeded windows. Each \`saved\` is checked against a mirror of what the store really wrote (appends and compaction snapshots); after the last window every client must get everything saved, and a fresh LevelDB read of the data directory must hold every edit. \`pnpm test\` runs 2 windows (packages/testkit/test/disk-full-check.test.ts).

${diskTable}

## Set check (Jepsen-style)

${sizes.set.clients} Weft clients each add ${sizes.set.itemsPerClient} unique items (\`client:seq\`) to one shared \`Y.Array\`, one every 10 ms, through a fault proxy (delays 0–20 ms, 2% duplicated frames, 2% reordered relay→client frames) to a relay process on LevelDB that is killed with SIGKILL ${sizes.set.kills} times at seeded moments and restarted on the same data and port. An add is **ok** once its client has \`saved\` covering it, **unknown** otherwise. Then the relay is killed once more, restarted, and a fresh client reads the set. "At every writer" is the time from an add until every other writer has it. A seed fixes the kill schedule and every fault decision of the proxy; process and network timing still vary between runs. \`pnpm test\` runs one seed at a smaller size (apps/relay/test/set-check.test.ts).

${setTable}

## Protocol fuzzing

Valid frames of both dialects (Weft: update, updates, open, sync step 1, awareness, ping; y-websocket: sync step 2, update), 90% of them mutated (truncated, bits flipped, varints inflated, random bytes spliced in) or replaced by random bytes, sent to one relay process on LevelDB; after each, a control socket pings the relay and times the answer. The bad-input and pathological-update tests in \`pnpm test\` bound decode time from inside.

${fuzzTable}

## Model fuzzing

Updates that look like the document model's writes (register keys, record maps, metadata, text and list content) but break the schema or the record rules, from a user who owns none of the records, against a relay process with \`--auth jwt\` and a \`--schemas-file\` (a task board; only a task's owner updates it, only an admin hands it over): wrong-typed, unknown or malformed fields, rewritten \`createdBy\`/\`createdAt\`, replaced or removed records and fields, bytes or nested types in lists, unknown collections, a bad schema version, typing into or erasing another user's text, another user's task edited, deleted or taken over, a record forged under another creator. Each goes in a seeded order over a Weft socket or \`POST /v1/docs/<name>/update\`, between honest edits of the owner. Every one must be refused (\`FORBIDDEN\` or \`SCHEMA_VIOLATION\`, kept aside on the device when it came from a Weft client), and the owner's records must come out as she left them on the relay and on her device. \`pnpm test\` runs 60 updates in one process (packages/server/test/write-policy.hostile.prop.test.ts).

${modelTable}

${renderClusterSection(run)}
`
}
