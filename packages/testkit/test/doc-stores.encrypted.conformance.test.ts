/**
 * The DocStore conformance suite on an encrypted LevelStore, beside the plain stores' run in
 * doc-stores.conformance.test.ts.
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LevelStore, type EncryptionKey } from '@weft/store-level'
import { runDocStoreSuite, type StoreFixture } from '@weft/testkit'

const keyA: EncryptionKey = { id: 'a', key: randomBytes(32) }
const keyB: EncryptionKey = { id: 'b', key: randomBytes(32) }

/** A store encrypted with `keys`, reopened with `reopenKeys`. */
const fixture = async (
  keys: EncryptionKey[],
  reopenKeys: EncryptionKey[],
  historyMs: number,
): Promise<StoreFixture> => {
  const path = await mkdtemp(join(tmpdir(), 'weft-level-encrypted-'))
  const store = await LevelStore.open({ path, encryption: { keys }, historyMs })
  const opened = [store]
  return {
    store,
    reopen: async () => {
      const again = await LevelStore.open({ path, encryption: { keys: reopenKeys }, historyMs })
      opened.push(again)
      return again
    },
    cleanup: async () => {
      for (const each of opened) await each.close()
      await rm(path, { recursive: true, force: true })
    },
  }
}

runDocStoreSuite('LevelStore, encrypted', ({ historyMs }) => fixture([keyA], [keyA], historyMs), {
  durable: true,
})

// Reopened after a rotation: what was written under A is read back with B encrypting.
runDocStoreSuite(
  'LevelStore, encrypted, key rotated on reopen',
  ({ historyMs }) => fixture([keyA], [keyA, keyB], historyMs),
  {
    durable: true,
  },
)
