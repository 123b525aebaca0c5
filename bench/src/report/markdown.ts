/** Builds docs/BENCHMARKS.md from the results, keeping the lead's "what limits it" paragraphs. */
import { spread } from '../stats.js'
import { perRun } from '../workloads/targets.js'
import { formatCell, formatNumber, markdownTable, shortError } from './format.js'
import type { BenchResults, WorkloadResults } from './results.js'

const LIMITS_PLACEHOLDER = '**What limits it:** _to be filled in where a target is missed._'
const LIMITS_BLOCK = /<!-- limits:(\w+) -->\n([\s\S]*?)\n<!-- \/limits:\1 -->/g

/** The "what limits it" paragraphs of an existing report, by workload id. */
export const keptLimits = (previous: string): Map<string, string> =>
  new Map([...previous.matchAll(LIMITS_BLOCK)].map((match) => [match[1]!, match[2]!]))

const metricsTable = (workload: WorkloadResults): string =>
  markdownTable(
    ['Metric', ...workload.columns.map((column) => column.label)],
    workload.metrics.map((metric) => [
      metric.unit === '' ? metric.label : `${metric.label} (${metric.unit})`,
      ...workload.columns.map((column) =>
        formatCell(
          workload.runs.map((run) => run[column.id]),
          metric,
        ),
      ),
    ]),
  )

/** Each other column divided by the baseline, per run, for a workload comparing Weft with itself. */
const baselineTable = (workload: WorkloadResults, baselineId: string): string | null => {
  const baseline = workload.columns.find((column) => column.id === baselineId)
  const others = workload.columns.filter((column) => column.id !== baselineId)
  if (baseline === undefined || others.length === 0 || workload.ratios.length === 0) return null
  const rows = workload.ratios.map((key) => [
    workload.metrics.find((metric) => metric.key === key)?.label ?? key,
    ...others.map((column) =>
      ratioCell(perRun(workload.runs, key, column.id, baseline.id, (a, b) => a / b)),
    ),
  ])
  return markdownTable(
    [`Ratio to ${baseline.label}, per run`, ...others.map((column) => column.label)],
    rows,
  )
}

const ratioCell = (ratios: readonly number[]): string => {
  const stats = spread(ratios)
  if (stats === null) return '—'
  const range =
    stats.count > 1 ? ` (${formatNumber(stats.min, 2)}–${formatNumber(stats.max, 2)})` : ''
  return `${formatNumber(stats.median, 2)}×${range}`
}

const ratioTable = (workload: WorkloadResults): string | null => {
  if (workload.baseline !== undefined) return baselineTable(workload, workload.baseline)
  const weft = workload.columns.filter((column) => column.weft)
  const peers = workload.columns.filter((column) => !column.weft)
  if (workload.ratios.length === 0 || peers.length === 0 || weft.length === 0) return null
  const rows = workload.ratios.flatMap((key) => {
    const label = workload.metrics.find((metric) => metric.key === key)?.label ?? key
    return weft.map((column) => [
      `${label}: ${column.label}`,
      ...peers.map((peer) =>
        ratioCell(perRun(workload.runs, key, column.id, peer.id, (a, b) => a / b)),
      ),
    ])
  })
  return markdownTable(['Weft / peer, per run', ...peers.map((peer) => `vs ${peer.label}`)], rows)
}

const targetsTable = (workload: WorkloadResults): string | null =>
  workload.targets.length === 0
    ? null
    : markdownTable(
        ['System', 'Target', 'Measured', 'Met'],
        workload.targets.map((row) => [row.column, row.target, row.measured, metWord(row.met)]),
      )

const metWord = (met: boolean | null): string => (met === null ? 'n/a' : met ? 'met' : 'missed')

const failures = (workload: WorkloadResults): string | null => {
  const lines = workload.runs.flatMap((run, index) =>
    workload.columns.flatMap((column) => {
      const cell = run[column.id]
      return cell === undefined || cell.ok
        ? []
        : [`- run ${index + 1}, ${column.label}: ${shortError(cell.error, 300)}`]
    }),
  )
  return lines.length === 0 ? null : ['Failed runs:', '', ...lines].join('\n')
}

/** One workload's section: tables, ratios, targets and failures (and the method for the file). */
export const workloadSection = (
  workload: WorkloadResults,
  options: { method: boolean; limits?: string },
): string => {
  const parts = [`## ${workload.id}. ${workload.title}`]
  if (options.method) parts.push(workload.method)
  parts.push(metricsTable(workload))
  for (const part of [ratioTable(workload), targetsTable(workload), failures(workload)]) {
    if (part !== null) parts.push(part)
  }
  if (options.limits !== undefined) {
    parts.push(`<!-- limits:${workload.id} -->\n${options.limits}\n<!-- /limits:${workload.id} -->`)
  }
  return parts.join('\n\n')
}

const setup = (results: BenchResults): string => {
  const { meta, sizes } = results
  const machine = Object.entries(meta.machine).map(([key, value]) => [key, value])
  const versions = Object.entries(meta.versions).map(([name, version]) => [name, version])
  const minutes =
    meta.durationMs === undefined ? '' : `, ${formatNumber(meta.durationMs / 60_000, 1)} min`
  return [
    `Generated ${meta.date} by \`npx -y pnpm@12.4.2 ${meta.command.replace(/^pnpm /, '')}\` ` +
      `(${meta.mode} mode, ${sizes.runs} run${sizes.runs === 1 ? '' : 's'} per workload${minutes}). ` +
      'Each cell is the median over the runs with the range (min–max) in parentheses; ratios ' +
      'are computed per run (Weft and peer from the same run) and then their median is taken.',
    '## Machine and versions',
    markdownTable(['Machine', ''], machine),
    markdownTable(['Package', 'Version'], [['Weft commit', meta.weftCommit], ...versions]),
    "Every server is its own process on 127.0.0.1 with a fresh data directory: Weft's relay " +
      '(`apps/relay`, LevelDB, `--auth open`, every limit at its default; each client socket ' +
      'names an address of its own in `X-Forwarded-For`, as behind a reverse proxy, which the ' +
      'relay believes from loopback by default, so its per-address limit counts each client), ' +
      'Hocuspocus with `@hocuspocus/extension-sqlite` (SQLite file), and ' +
      'the y-websocket reference server (its bin `src/server.js` with `YPERSISTENCE`, LevelDB ' +
      'through y-leveldb). `@y/websocket-server` is at 0.1.1, the last release on yjs 13 (0.1.5 ' +
      'requires a yjs 14 pre-release). Hocuspocus is 3.x because 4.x needs Node 22. Clients run ' +
      'in separate agent processes (never in the harness or in the same process as the server): ' +
      "Weft's client, the stock y-websocket `WebsocketProvider` (for Weft's y-websocket dialect " +
      'and for y-websocket-server) and `HocuspocusProvider`. Server CPU is utime + stime from ' +
      '`/proc/<pid>/stat`, server RSS is VmRSS and peak RSS VmHWM from `/proc/<pid>/status`, ' +
      'sampled by the harness; client CPU is `process.cpuUsage()` reported by each agent. With ' +
      'two cores, the clients compete with the server for CPU: the client CPU figures show how much.',
  ].join('\n\n')
}

const summary = (results: BenchResults): string =>
  markdownTable(
    ['#', 'System', 'Target', 'Measured', 'Met'],
    results.workloads.flatMap((workload) =>
      workload.targets.map((row) => [
        workload.id,
        row.column,
        row.target,
        row.measured,
        metWord(row.met),
      ]),
    ),
  )

/** The whole report; `previous` is the current file, whose "what limits it" paragraphs are kept. */
export const buildReport = (results: BenchResults, previous: string): string => {
  const limits = keptLimits(previous)
  return (
    [
      '# Weft benchmarks',
      '<!-- Generated by `pnpm bench`. Only the text between the limits markers is kept on regeneration. -->',
      setup(results),
      '## Targets',
      summary(results),
      ...results.workloads.map((workload) =>
        workloadSection(workload, {
          method: true,
          limits: limits.get(workload.id) ?? LIMITS_PLACEHOLDER,
        }),
      ),
    ].join('\n\n') + '\n'
  )
}
