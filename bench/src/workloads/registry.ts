/** Every workload's report spec and every step that produces them, in order. */
import type { WorkloadId } from '../options.js'
import { appLifecycleSpec, appLifecycleStep } from './app-lifecycle.js'
import { bigDocSpec, bigDocStep } from './big-doc.js'
import { churnSpec, churnStep } from './churn.js'
import { connectionsSpec, connectionsStep } from './connections.js'
import { durabilitySpec, durabilityStep } from './durability.js'
import { fanoutSpec, fanoutStep, slowFanoutSpec, slowFanoutStep } from './fanout.js'
import { fanoutClusterSpec, fanoutClusterStep } from './fanout-cluster.js'
import { floorSpec, floorStep } from './floor.js'
import { killSpec, killStep } from './kill.js'
import { manyDocsSpec, manyDocsStep } from './many-docs.js'
import { presenceSpec, presenceStep } from './presence.js'
import { schemaCheckSpec, schemaCheckStep } from './schema-check.js'
import { traceStep } from './trace.js'
import { tracePostgresSpec, tracePostgresStep } from './trace-postgres.js'
import { coldLoadSpec, traceSpec } from './trace-specs.js'
import type { Step, WorkloadSpec } from './types.js'

/** Report specs by workload id. */
export const SPECS: Readonly<Record<WorkloadId, WorkloadSpec>> = {
  '1': floorSpec,
  '2': traceSpec,
  '3': coldLoadSpec,
  '4': killSpec,
  '5': fanoutSpec,
  '5b': slowFanoutSpec,
  '6': manyDocsSpec,
  '7': durabilitySpec,
  '8': connectionsSpec,
  '9': presenceSpec,
  '10': churnSpec,
  '11': fanoutClusterSpec,
  '12': tracePostgresSpec,
  '13': schemaCheckSpec,
  '14': bigDocSpec,
  '15': appLifecycleSpec,
}

/** Steps in the order they run; one step may produce several workloads (2 and 3). */
export const STEPS: readonly Step[] = [
  floorStep,
  traceStep,
  killStep,
  fanoutStep,
  slowFanoutStep,
  manyDocsStep,
  durabilityStep,
  connectionsStep,
  presenceStep,
  churnStep,
  fanoutClusterStep,
  tracePostgresStep,
  schemaCheckStep,
  bigDocStep,
  appLifecycleStep,
]

/** The spec's baseline column as an optional field (absent when it has none). */
export const baselineOf = (id: WorkloadId): { baseline?: string } => {
  const baseline = SPECS[id].baseline
  return baseline === undefined ? {} : { baseline }
}
