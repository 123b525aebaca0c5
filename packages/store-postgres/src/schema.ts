/**
 * The store's tables and their migrations. Every table lives in one PostgreSQL schema (`weft` by
 * default); `weft_schema_version` records the last migration applied. Keys that are compared or
 * ranged (document names, state keys) use the "C" collation, so they sort by code point as in
 * LevelStore, whatever the database's locale.
 */
import { WeftError } from '@weft/protocol'
import type pg from 'pg'

/** One migration: the statements that take the schema from the previous version to `version`. */
interface Migration {
  readonly version: number
  readonly statements: (schema: string) => readonly string[]
}

/**
 * The migrations, in order. Append new ones; never edit one that has shipped.
 *
 * - `docs`: one row per document — its log head, how far compaction folded the log, the snapshot
 *   and the history base. Deleting a document deletes its row (so sequences start again).
 * - `records`: one row per append (a log record); those at or below `compacted_through` were
 *   folded by compaction and are kept only for the history window.
 * - `feed`, `feed_meta`, `feed_seqs`: the change feed, its head and pruned position, and each
 *   document's last feed sequence (kept apart from `docs`, so a deletion does not reset it).
 * - `state`: the relay's small records (webhook cursors, dead letters).
 * - `markers`: the encryption marker.
 *
 * Version 2 gives each `docs` row an `incarnation`, drawn from the `incarnations` sequence when
 * the row is created: a document deleted and created again gets a new one, so a relay's append
 * can require the life of the document it loaded (see `AppendOptions`).
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    statements: (s) => [
      `CREATE TABLE ${s}.docs (
        name text COLLATE "C" PRIMARY KEY,
        head_seq bigint NOT NULL,
        compacted_through bigint NOT NULL DEFAULT 0,
        compacted_at_ms bigint,
        snapshot bytea,
        hist_base bytea
      )`,
      `CREATE TABLE ${s}.records (
        doc text COLLATE "C" NOT NULL,
        seq bigint NOT NULL,
        received_at_ms bigint NOT NULL,
        record bytea NOT NULL,
        PRIMARY KEY (doc, seq)
      )`,
      `CREATE TABLE ${s}.feed (
        position bigint PRIMARY KEY,
        received_at_ms bigint NOT NULL,
        entry bytea NOT NULL
      )`,
      `CREATE TABLE ${s}.feed_meta (
        id int PRIMARY KEY CHECK (id = 1),
        head bigint NOT NULL,
        pruned_through bigint NOT NULL
      )`,
      `INSERT INTO ${s}.feed_meta (id, head, pruned_through) VALUES (1, 0, 0)`,
      `CREATE TABLE ${s}.feed_seqs (doc text COLLATE "C" PRIMARY KEY, seq bigint NOT NULL)`,
      `CREATE TABLE ${s}.state (key text COLLATE "C" PRIMARY KEY, value bytea NOT NULL)`,
      `CREATE TABLE ${s}.markers (name text PRIMARY KEY, value text NOT NULL)`,
    ],
  },
  {
    version: 2,
    statements: (s) => [
      `CREATE SEQUENCE ${s}.incarnations`,
      // Existing rows get one each too: the default is evaluated per row.
      `ALTER TABLE ${s}.docs ADD COLUMN incarnation bigint NOT NULL
         DEFAULT nextval('${s}.incarnations')`,
    ],
  },
]

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS.at(-1)?.version ?? 0

/** A PostgreSQL identifier Weft accepts as a schema name: lower case, unquoted. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/

/** Checks a schema name and returns it quoted for SQL. */
export const quoteSchema = (schema: string): string => {
  if (typeof schema !== 'string' || !SCHEMA_NAME.test(schema)) {
    throw new WeftError(
      'INVALID_ARGUMENT',
      `PostgresStore.open: options.schema must be a lower-case identifier (a-z, 0-9, _), got ${JSON.stringify(schema)}`,
    )
  }
  return `"${schema}"`
}

/** Advisory lock namespace of Weft's migrations (the second key is the schema's hash). */
const MIGRATION_LOCK = 0x77656674 // "weft"

/**
 * Brings `schema` to {@link SCHEMA_VERSION} in one transaction, under an advisory lock so
 * relays starting at once migrate once: the others wait, then find nothing to do. Refuses a
 * schema written by a newer version. Resolves with the migrations applied.
 */
export const migrate = async (client: pg.PoolClient, schema: string): Promise<number[]> => {
  const s = quoteSchema(schema)
  await client.query('BEGIN')
  try {
    await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [MIGRATION_LOCK, schema])
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`)
    await client.query(`CREATE TABLE IF NOT EXISTS ${s}.weft_schema_version (
      version int PRIMARY KEY,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`)
    const { rows } = await client.query<{ version: number | null }>(
      `SELECT max(version) AS version FROM ${s}.weft_schema_version`,
    )
    const current = rows[0]?.version ?? 0
    if (current > SCHEMA_VERSION) {
      throw new WeftError(
        'STORAGE_FAILED',
        `PostgreSQL schema ${schema} is at version ${current}, newer than this store's ${SCHEMA_VERSION}: upgrade Weft`,
      )
    }
    const applied: number[] = []
    for (const migration of MIGRATIONS) {
      if (migration.version <= current) continue
      for (const statement of migration.statements(s)) await client.query(statement)
      await client.query(`INSERT INTO ${s}.weft_schema_version (version) VALUES ($1)`, [
        migration.version,
      ])
      applied.push(migration.version)
    }
    await client.query('COMMIT')
    return applied
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw error
  }
}
