/** @weft/doc: the document model on Yjs, its change events and JSON schemas, and update helpers. */
export {
  decodeStateVector,
  decodeUpdate,
  decodeUpdates,
  stateVectorCovers,
  summarizeUpdate,
  type UpdateSummary,
} from './update-summary.js'
export { inspectWrite, type WriteInspection } from './write-inspection.js'
export {
  inspectContentWrites,
  inspectRecordWrites,
  type RecordWrite,
  type RecordWriteInspection,
  type SchemaViolation,
} from './record-writes.js'
export { QueuedItems } from './update-places.js'
export { scanDeletionUpdate, scanTypedUpdate } from './typed-update.js'
export { foldUpdates } from './fold-updates.js'
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
  type AnySchema,
  type Schema,
  type TextField,
  type UpdateInput,
} from './schema.js'
export { MigrationContext } from './migrations.js'
export {
  openModel,
  type Conflict,
  type ConflictJson,
  type Model,
  type ModelJson,
  type ModelOptions,
  type ModelStatus,
} from './model.js'
export { MAX_ID_LENGTH, type Collection, type CreateOptions } from './collection.js'
export { fieldOfKey, type Entry } from './register.js'
export {
  changeEventsOf,
  type ChangeEvent,
  type ContentChange,
  type FieldChange,
  type ValueChange,
} from './change-events.js'
export {
  schemaFromJson,
  schemaToJson,
  type FieldJson,
  type ScalarFieldJson,
  type SchemaJson,
} from './schema-json.js'
export type { JsonValue } from './json-value.js'
export type { RecordJson } from './record-json.js'
