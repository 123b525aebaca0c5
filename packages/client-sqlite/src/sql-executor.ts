/**
 * SqlExecutor: the two calls Weft's SQLite store makes, which every SQLite binding can answer,
 * and adapters for better-sqlite3 (Node), expo-sqlite and op-sqlite (React Native), each typed by
 * the shape it uses (Weft depends on none of them).
 */

/** A value bound to a `?` placeholder, or read from a column. */
export type SqlValue = string | number | Uint8Array | null

/**
 * One SQLite connection. Weft runs one statement at a time on it and wraps its transactions in
 * `BEGIN IMMEDIATE` / `COMMIT`, so give the store a connection of its own.
 */
export interface SqlExecutor {
  /** Runs one statement that returns no rows, `?` placeholders bound to `params`. */
  run(sql: string, params?: readonly SqlValue[]): Promise<void>
  /** Runs one statement and returns its rows, as objects keyed by column name. */
  all(sql: string, params?: readonly SqlValue[]): Promise<ReadonlyArray<Record<string, unknown>>>
}

/** A better-sqlite3 `Database`, as far as the adapter uses it. */
export interface BetterSqlite3Like {
  prepare(sql: string): {
    run(...params: unknown[]): unknown
    all(...params: unknown[]): unknown[]
  }
}

/** An executor over a better-sqlite3 database (Node; synchronous underneath). Statements are cached. */
export const betterSqlite3Executor = (db: BetterSqlite3Like): SqlExecutor => {
  const statements = new Map<string, ReturnType<BetterSqlite3Like['prepare']>>()
  const prepared = (sql: string): ReturnType<BetterSqlite3Like['prepare']> => {
    let statement = statements.get(sql)
    if (statement === undefined) statements.set(sql, (statement = db.prepare(sql)))
    return statement
  }
  return {
    run: async (sql, params = []) => {
      prepared(sql).run(...params)
    },
    all: async (sql, params = []) =>
      prepared(sql).all(...params) as ReadonlyArray<Record<string, unknown>>,
  }
}

/** An expo-sqlite `SQLiteDatabase` (`openDatabaseAsync`), as far as the adapter uses it. */
export interface ExpoSqliteLike {
  runAsync(sql: string, params: SqlValue[]): Promise<unknown>
  getAllAsync(sql: string, params: SqlValue[]): Promise<unknown[]>
}

/** An executor over an expo-sqlite database (React Native with Expo). */
export const expoSqliteExecutor = (db: ExpoSqliteLike): SqlExecutor => ({
  run: async (sql, params = []) => {
    await db.runAsync(sql, [...params])
  },
  all: async (sql, params = []) =>
    (await db.getAllAsync(sql, [...params])) as ReadonlyArray<Record<string, unknown>>,
})

/** An op-sqlite `DB` (`open`), as far as the adapter uses it. */
export interface OpSqliteLike {
  execute(sql: string, params: SqlValue[]): Promise<{ rows?: unknown[] }>
}

/** An executor over an op-sqlite database (React Native). */
export const opSqliteExecutor = (db: OpSqliteLike): SqlExecutor => ({
  run: async (sql, params = []) => {
    await db.execute(sql, [...params])
  },
  all: async (sql, params = []) =>
    ((await db.execute(sql, [...params])).rows ?? []) as ReadonlyArray<Record<string, unknown>>,
})
