/** Fixtures for PostgresStore tests: one server per test file, a fresh schema per store. */
import { randomBytes } from 'node:crypto'
import type { StoreFixture, TestPostgres } from '@weft/testkit'
import { PostgresStore, type PostgresStoreOptions } from '../src/index.js'

/** A schema name no other test uses. */
export const freshSchema = (): string => `weft_${randomBytes(6).toString('hex')}`

/** A conformance fixture: a store on a fresh schema, reopened with `reopenOptions`. */
export const storeFixture = async (
  server: TestPostgres,
  options: Omit<PostgresStoreOptions, 'url' | 'schema'>,
  reopenOptions: Omit<PostgresStoreOptions, 'url' | 'schema'> = options,
): Promise<StoreFixture> => {
  const schema = freshSchema()
  const store = await PostgresStore.open({ url: server.url, schema, ...options })
  const opened = [store]
  return {
    store,
    reopen: async () => {
      const again = await PostgresStore.open({ url: server.url, schema, ...reopenOptions })
      opened.push(again)
      return again
    },
    cleanup: async () => {
      for (const each of opened) await each.close()
    },
  }
}
