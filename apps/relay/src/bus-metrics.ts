/**
 * The Prometheus metrics of the bus between relays sharing one store: whether it is up, the
 * messages on it, and the gaps and catch-ups from the store that make up for lost ones.
 */
import type { BusMessage, CatchUpReason, RelayMetrics } from '@weft/server'
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'

/** The RelayMetrics hooks of the bus. */
export type BusMetrics = Pick<
  RelayMetrics,
  'busMessageOut' | 'busMessageIn' | 'busGap' | 'caughtUp'
>

/** Every kind of bus message (typed as a record so that a new kind must be added here). */
const KINDS = Object.keys({
  update: null,
  awareness: null,
  'awareness-query': null,
  revoke: null,
  deleted: null,
} satisfies Record<BusMessage['kind'], null>) as BusMessage['kind'][]

/** Every reason of a catch-up (a record, like {@link KINDS}). */
const REASONS = Object.keys({
  gap: null,
  quiet: null,
  reconnect: null,
  load: null,
  'large-record': null,
  admin: null,
} satisfies Record<CatchUpReason, null>) as CatchUpReason[]

/** Catch-up buckets in seconds: one store read, 1 ms to 10 s. */
const CATCH_UP = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10]

/**
 * Registers the bus metrics in `registry` and returns the hooks that feed them; `up` tells
 * whether the bus is connected now (read at scrape time). Every labelled series starts at 0, so
 * that rates and alerts work before the first message, gap or catch-up.
 */
export const createBusMetrics = (registry: Registry, up: () => boolean): BusMetrics => {
  const registers = [registry]
  new Gauge({
    name: 'weft_bus_up',
    help: 'Whether the bus to the other relays is connected (1) or not (0)',
    registers,
    collect() {
      this.set(up() ? 1 : 0)
    },
  })
  const messages = new Counter({
    name: 'weft_bus_messages_total',
    help: 'Messages on the bus to the other relays, by direction (out, in) and kind',
    labelNames: ['direction', 'kind'],
    registers,
  })
  const gaps = new Counter({
    name: 'weft_bus_gaps_total',
    help: "Gaps opened in a document's sequence (a record beyond the next one); most fill by themselves",
    registers,
  })
  const catchUps = new Counter({
    name: 'weft_bus_catchups_total',
    help: 'Reads of the store for records the bus did not bring, by reason and result',
    labelNames: ['reason', 'result'],
    registers,
  })
  const catchUpSeconds = new Histogram({
    name: 'weft_bus_catchup_seconds',
    help: 'Duration of catch-ups from the store',
    buckets: CATCH_UP,
    registers,
  })
  for (const kind of KINDS)
    for (const direction of ['out', 'in']) messages.inc({ direction, kind }, 0)
  for (const reason of REASONS)
    for (const result of ['ok', 'failed']) catchUps.inc({ reason, result }, 0)
  return {
    busMessageOut: (kind) => messages.inc({ direction: 'out', kind }),
    busMessageIn: (kind) => messages.inc({ direction: 'in', kind }),
    busGap: () => gaps.inc(),
    caughtUp: (reason, seconds, ok) => {
      catchUps.inc({ reason, result: ok ? 'ok' : 'failed' })
      catchUpSeconds.observe(seconds)
    },
  }
}
