/**
 * lockNextRows: row locks for a maintenance transaction that must never deadlock with relays'
 * writes, which lock rows in orders of their own (a state write's keys, a fenced write's token):
 * it waits only for its first row, while it holds nothing, and takes further rows only if they
 * are free, stopping at the first that is not.
 */
import type pg from 'pg'

/** A table walked in key order. */
export interface KeyedTable {
  /** Quoted, schema-qualified table name. */
  readonly table: string
  /** The key column and its SQL type. */
  readonly key: string
  readonly keyType: 'text' | 'bigint'
  /** The columns read with each row. */
  readonly columns: string
  /** SQL of a row's stored bytes (read from column headers, not the values). */
  readonly bytes: string
}

/** Where a walk stands: rows after `key` (or from it, when `inclusive`); null is the start. */
export type RowStart = { readonly key: string; readonly inclusive: boolean } | null

/** A locked row: its key as text, its stored bytes, and the table's columns. */
export type LockedRow<Columns> = Columns & { key: string; bytes: string }

/** What {@link lockNextRows} took. */
export interface LockedRows<Columns> {
  /** The locked rows, consecutive in key order from the start. */
  readonly rows: Array<LockedRow<Columns>>
  /** True when the table holds no row after the start (only known when `waitForFirst`). */
  readonly exhausted: boolean
}

const condition = (table: KeyedTable, start: RowStart): string =>
  start === null ? 'TRUE' : `${table.key} ${start.inclusive ? '>=' : '>'} $1`

/**
 * Locks (`FOR UPDATE`) the rows of `table` after `start`, in key order: at most `maxRows`, and
 * no more once their bytes reach `maxBytes` (the first row counts whatever its size). With
 * `waitForFirst` (the transaction holds no lock yet) the first row is waited for; every other
 * row is taken only if free (`SKIP LOCKED`), and the rows end before the first that is not, so
 * they stay consecutive and the next walk goes on from the last of them.
 */
export const lockNextRows = async <Columns>(
  client: pg.ClientBase,
  table: KeyedTable,
  start: RowStart,
  limits: { readonly maxRows: number; readonly maxBytes: number },
  waitForFirst: boolean,
): Promise<LockedRows<Columns>> => {
  const { key, columns, bytes } = table
  const select = `SELECT ${key}::text AS key, ${bytes} AS bytes, ${columns} FROM ${table.table}`
  const rows: Array<LockedRow<Columns>> = []
  let from = start
  let taken = 0
  if (waitForFirst) {
    // Skips a row deleted while waiting for it, and reads the newest version of one updated.
    const { rows: first } = await client.query<LockedRow<Columns>>(
      `${select} WHERE ${condition(table, from)} ORDER BY ${key} LIMIT 1 FOR UPDATE`,
      from === null ? [] : [from.key],
    )
    if (first[0] === undefined) return { rows, exhausted: true }
    rows.push(first[0])
    taken = Number(first[0].bytes)
    from = { key: first[0].key, inclusive: false }
  }
  if (rows.length >= limits.maxRows || taken >= limits.maxBytes) return { rows, exhausted: false }
  const { rows: next } = await client.query<{ key: string; bytes: string }>(
    `SELECT ${key}::text AS key, ${bytes} AS bytes FROM ${table.table}
     WHERE ${condition(table, from)} ORDER BY ${key} LIMIT ${from === null ? '$1' : '$2'}`,
    from === null ? [limits.maxRows - rows.length] : [from.key, limits.maxRows - rows.length],
  )
  const wanted: string[] = []
  for (const row of next) {
    if (taken >= limits.maxBytes && (wanted.length > 0 || rows.length > 0)) break
    wanted.push(row.key)
    taken += Number(row.bytes)
  }
  if (wanted.length === 0) return { rows, exhausted: false }
  const { rows: free } = await client.query<LockedRow<Columns>>(
    `${select} WHERE ${key} = ANY($1::${table.keyType}[]) ORDER BY ${key} FOR UPDATE SKIP LOCKED`,
    [wanted],
  )
  const byKey = new Map(free.map((row) => [row.key, row]))
  for (const wantedKey of wanted) {
    const row = byKey.get(wantedKey)
    // Locked by another transaction, or deleted since it was listed: the rows stop before it.
    if (row === undefined) break
    rows.push(row)
  }
  return { rows, exhausted: false }
}
