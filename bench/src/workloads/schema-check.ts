/**
 * Workload 13, the schema check: workload 2 into a text field of one record, against a relay that
 * checks every write with the document's schema (and with record rules) and one that does not.
 */
import { randomBytes } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { writeToken } from '@weft/testkit'
import { PAPER_DOC, PAPER_DOC_PATTERN, PAPER_SCHEMA_JSON } from '../paper-record.js'
import { relayCounter } from './relay-stats.js'
import { withResources } from './resources.js'
import { ratioTarget, valueAt } from './targets.js'
import { measureReplay, sendTrace, traceTimeoutMs, traceValues } from './trace-session.js'
import type { Column, RunTable, Step, TargetRow, WorkloadSpec } from './types.js'

const PLAIN: Column = { id: 'weft-no-schema', label: 'Weft (Weft client), no schema', weft: true }
const SCHEMA: Column = { id: 'weft-schema', label: 'Weft (Weft client), schema', weft: true }
const RULES: Column = {
  id: 'weft-schema-rules',
  label: 'Weft (Weft client), schema + record rules',
  weft: true,
}

/** The rules of the third column: only a paper's owner (its creator, the writer) may edit it. */
const RULES_JSON = { papers: { update: 'owner' } }

/** Token subjects; the writer creates the paper, so it owns it. */
const WRITER = 'writer'
const READER = 'reader'

/** The target: the time the relay spends judging writes, as a share of its CPU. */
const TARGET_PCT = 10

export const schemaCheckSpec: WorkloadSpec = {
  id: '13',
  title: 'Schema check',
  method: (sizes) =>
    "Workload 2 with Weft's client, into a record: the writer opens the model of document " +
    '`papers/automerge-paper` (one collection `papers` with a string `title` and a text ' +
    '`body`), creates one paper and waits for `saved`; then it replays the first ' +
    `${sizes.tracePatches.toLocaleString('en-US')} patches of \`automerge-paper\` into the ` +
    "paper's `body`, one update per patch, until the reader has the exact text and the writer " +
    'has `saved` for every update. The relay runs at its defaults on LevelDB with `--auth jwt` ' +
    '(each agent has a token of its own, subjects `writer` and `reader`) in three set-ups: ' +
    'without a schema, with the schema in `--schemas-file` (every update is checked against ' +
    'it before it is applied), and with the schema and record rules (`papers: { update: ' +
    "'owner' }`: each update is also judged against the paper's owner and the token's " +
    'subject). The record layout is the same in all three. Ratios divide each figure by the ' +
    "no-schema figure of the same run. The check's share is the time the relay spent judging " +
    'writes (its `weft_write_check_seconds_total`, read at the end) over its CPU in the same ' +
    "run; the relay CPU ratio also counts what else a schema brings (the change feed's " +
    'domain events) and the garbage collected later.',
  metrics: [
    { key: 'doneMs', label: 'done (reader exact and all saved)', unit: 'ms' },
    { key: 'readerMs', label: 'reader has the exact final text', unit: 'ms' },
    { key: 'savedMs', label: 'writer has `saved` for everything', unit: 'ms' },
    { key: 'updatesPerSec', label: 'updates per second (to done)', unit: '/s' },
    { key: 'serverCpuMs', label: 'relay CPU', unit: 'ms' },
    { key: 'checkMs', label: 'time judging writes (the check)', unit: 'ms' },
    { key: 'checkSharePct', label: "the check's share of relay CPU", unit: '%' },
    { key: 'serverPeakRssMb', label: 'relay peak RSS', unit: 'MiB' },
    { key: 'clientCpuMs', label: 'client CPU (writer + reader)', unit: 'ms' },
  ],
  ratios: ['serverCpuMs', 'doneMs', 'updatesPerSec'],
  baseline: PLAIN.id,
  evaluate: (runs) => [SCHEMA, RULES].map((column) => overheadTarget(runs, column)),
}

/** The check's share of relay CPU for `column`, per run (in %). */
const overheadTarget = (runs: RunTable, column: Column): TargetRow =>
  ratioTarget(
    column,
    `schema check under ${TARGET_PCT}% of relay CPU`,
    runs.map((_, run) => valueAt(runs, run, column.id, 'checkSharePct')),
    (sharePct) => sharePct < TARGET_PCT,
    '% of relay CPU judging writes',
  )

/** Writes the relay's `--schemas-file` for the column into `dir`; none for the no-schema column. */
const schemasFileFor = async (dir: string, column: string): Promise<{ schemasFile?: string }> => {
  if (column === PLAIN.id) return {}
  const entry = {
    pattern: PAPER_DOC_PATTERN,
    schema: PAPER_SCHEMA_JSON,
    ...(column === RULES.id ? { rules: RULES_JSON } : {}),
  }
  const schemasFile = join(dir, 'schemas.json')
  await writeFile(schemasFile, JSON.stringify({ schemas: [entry] }))
  return { schemasFile }
}

export const schemaCheckStep: Step = {
  ids: ['13'],
  columns: () => [PLAIN, SCHEMA, RULES],
  run: (ctx, column) =>
    withResources(ctx.tmpDir, async (resources) => {
      const jwtSecret = randomBytes(32).toString('hex')
      const [schemas, dataDir, agents, tokens] = await Promise.all([
        schemasFileFor(ctx.tmpDir, column),
        resources.dir('schema'),
        resources.agents('schema', 2),
        Promise.all([writeToken(WRITER, jwtSecret), writeToken(READER, jwtSecret)]),
      ])
      const writer = agents[0]!
      const reader = agents[1]!
      const server = await resources.server('weft', dataDir, { jwtSecret, ...schemas })
      await sendTrace([writer, reader], ctx.sizes)
      const open = { kind: 'weft', url: server.url, name: PAPER_DOC }
      const { clientId } = await writer.call<{ clientId: number }>('doc.open', {
        ...open,
        token: tokens[0],
      })
      await writer.call('paper.create', { author: WRITER, timeoutMs: traceTimeoutMs(ctx.sizes) })
      await reader.call('doc.open', { ...open, token: tokens[1] })
      const outcome = await measureReplay({
        server,
        writer,
        reader,
        sizes: ctx.sizes,
        kill: 'none',
        waitConfirmed: true,
        writerClientId: clientId,
        text: 'paper',
      })
      const values = traceValues(outcome, ctx.sizes)
      const checkMs = 1000 * (await relayCounter(server.port, 'weft_write_check_seconds_total'))
      const cpuMs = values.serverCpuMs ?? null
      return {
        '13': {
          doneMs: values.doneMs ?? null,
          readerMs: values.readerMs ?? null,
          savedMs: values.savedMs ?? null,
          updatesPerSec: values.updatesPerSec ?? null,
          serverCpuMs: values.serverCpuMs ?? null,
          checkMs,
          checkSharePct: cpuMs === null || cpuMs === 0 ? null : (100 * checkMs) / cpuMs,
          serverPeakRssMb: values.serverPeakRssMb ?? null,
          clientCpuMs: values.clientCpuMs ?? null,
        },
      }
    }),
}
