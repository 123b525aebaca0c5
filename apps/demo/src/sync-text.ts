/** The words of the sync indicator, from the document's status and its waiting edits. */
import type { SyncStatus } from '@weft/client'

export type ShownState = 'offline' | 'connecting' | 'syncing' | 'saved' | 'waiting' | 'error'

const changes = (count: number): string => `${count} ${count === 1 ? 'change' : 'changes'}`

export const describeSync = (
  status: SyncStatus,
  pending: number,
  wantOnline: boolean,
): { state: ShownState; text: string } => {
  if (status.state === 'error') return { state: 'error', text: `Error: ${status.code}` }
  if (!wantOnline || status.state === 'offline') {
    return {
      state: 'offline',
      text: pending > 0 ? `Offline — ${changes(pending)} waiting` : 'Offline',
    }
  }
  if (status.state === 'connecting' || status.state === 'authenticating') {
    return { state: 'connecting', text: 'Connecting…' }
  }
  if (status.state === 'syncing') return { state: 'syncing', text: 'Syncing…' }
  return pending > 0
    ? { state: 'waiting', text: `${changes(pending)} waiting` }
    : { state: 'saved', text: 'All changes saved' }
}
