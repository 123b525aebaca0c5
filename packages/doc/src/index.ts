/** @weft/doc: the shared document model on Yjs; for now, helpers to inspect updates. */
export {
  decodeStateVector,
  stateVectorCovers,
  summarizeUpdate,
  type UpdateSummary,
} from './update-summary.js'
export { inspectWrite, type WriteInspection } from './write-inspection.js'
export { encodeStamp, decodeStamp, HybridClock, type Stamp } from './hlc.js'
export {
  defineSchema,
  field,
  type CreateInput,
  type Field,
  type Fields,
  type ListField,
  type Migration,
  type RecordOf,
  type ScalarField,
  type Schema,
  type TextField,
  type UpdateInput,
} from './schema.js'
export { MigrationContext } from './migrations.js'
export {
  openModel,
  type Collection,
  type Conflict,
  type Model,
  type ModelOptions,
  type ModelStatus,
} from './model.js'
export { fieldOfKey, type Entry } from './register.js'
