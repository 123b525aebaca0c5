/** @weft/react: React hooks over a Weft client and the @weft/doc model (React 18 and 19). */
export {
  useWeftClient,
  WeftClientProvider,
  type WeftClientProviderProps,
} from './client-context.js'
export { useDoc, type UseDocOptions } from './use-doc.js'
export { useSyncStatus, type DocSyncStatus } from './use-sync-status.js'
export { useModel } from './use-model.js'
export { useRecord, useRecords } from './use-records.js'
export { useConflicts, type ConflictFilter } from './use-conflicts.js'
export { usePresence, type Peer } from './use-presence.js'
export { useUnsavedChangesGuard } from './use-unsaved-changes-guard.js'
export { useEditorDoc, type EditorDoc } from './use-editor-doc.js'
