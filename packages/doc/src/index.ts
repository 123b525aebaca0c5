/** @weft/doc: the shared document model on Yjs; for now, helpers to inspect updates. */
export {
  decodeStateVector,
  stateVectorCovers,
  summarizeUpdate,
  type UpdateSummary,
} from './update-summary.js'
export { inspectWrite, type WriteInspection } from './write-inspection.js'
