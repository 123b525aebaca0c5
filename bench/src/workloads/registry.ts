/** Every workload's report spec and every step that produces them, in order. */
import type { WorkloadId } from '../options.js'
import { churnSpec, churnStep } from './churn.js'
import { connectionsSpec, connectionsStep } from './connections.js'
import { durabilitySpec, durabilityStep } from './durability.js'
import { fanoutSpec, fanoutStep, slowFanoutSpec, slowFanoutStep } from './fanout.js'
import { floorSpec, floorStep } from './floor.js'
import { killSpec, killStep } from './kill.js'
import { manyDocsSpec, manyDocsStep } from './many-docs.js'
import { presenceSpec, presenceStep } from './presence.js'
import { traceStep } from './trace.js'
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
]
