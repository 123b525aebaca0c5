/** weftTab: what the two-tab test drives in each tab (one LevelLocalStore per tab), with plain values only. */
import { LevelLocalStore } from '@weft/client/level'
import * as Y from 'yjs'
import { rawKeys } from './raw-indexeddb.js'

/** What a load held, told by the labels of the edits (each edit sets one key of map `m`). */
export interface TabLoad {
  readonly keys: string[]
  readonly outbox: Array<{ ref: number; key: string }>
  readonly lastRef: number
}

const edit = (clientID: number, label: string): Uint8Array => {
  const doc = new Y.Doc()
  doc.clientID = clientID
  doc.getMap('m').set(label, true)
  return Y.encodeStateAsUpdate(doc)
}

const labelsOf = (updates: readonly Uint8Array[]): string[] => {
  const doc = new Y.Doc()
  for (const update of updates) Y.applyUpdate(doc, update)
  return [...doc.getMap('m').keys()].sort()
}

let store: LevelLocalStore | null = null

const opened = (): LevelLocalStore => {
  if (store === null) throw new Error('weftTab.open first')
  return store
}

/** The calls the two-tab test makes in each tab through `window.weftTab`. */
export const tabApi = {
  /** Opens this tab's store; resolves its writer id. */
  async open(location: string, writer: 'tab' | 'new' = 'tab'): Promise<string> {
    store = await LevelLocalStore.open({ location, writer })
    return store.writerId
  },

  /** Writes one edit per label, all at once, each with outbox ref `firstRef + index`. */
  async write(doc: string, labels: string[], firstRef: number, firstClient: number): Promise<void> {
    const target = opened()
    await Promise.all(
      labels.map((label, index) => {
        const update = edit(firstClient + index, label)
        return target.write(doc, {
          updates: [update],
          outboxAdd: [{ ref: firstRef + index, update }],
        })
      }),
    )
  },

  async load(doc: string): Promise<TabLoad> {
    const loaded = await opened().load(doc)
    return {
      keys: labelsOf(
        loaded.snapshot === null ? loaded.updates : [loaded.snapshot, ...loaded.updates],
      ),
      outbox: loaded.outbox.map(({ ref, update }) => ({ ref, key: labelsOf([update]).join() })),
      lastRef: loaded.lastRef,
    }
  },

  /** Resolves once nobody holds the Web Lock of writer `writerId` (its tab is gone). */
  async waitUntilGone(location: string, writerId: string): Promise<void> {
    await navigator.locks.request(`weft-local-store:${location}:${writerId}`, async () => {})
  },

  async close(): Promise<void> {
    await store?.close()
    store = null
  },

  rawKeys,
}
