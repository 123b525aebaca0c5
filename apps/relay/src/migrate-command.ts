/**
 * `relay migrate`: copies a stopped relay's LevelDB data directory into a PostgreSQL store —
 * documents with their sequence numbers, history, change feed and state records — then checks
 * that every document reads the same from both.
 */
import { access } from 'node:fs/promises'
import type { Logger } from '@weft/server'
import { LevelStore, type EncryptionKey } from '@weft/store-level'
import { PostgresImport, PostgresStore } from '@weft/store-postgres'
import * as Y from 'yjs'
import { parseCommandArgs } from './command-args.js'
import { envName, OPTIONS, readOptions } from './options.js'

/** The options of `relay migrate`. */
export interface MigrateConfig {
  readonly data: string
  readonly 'postgres-url': string
  readonly 'encryption-keys-file': string | undefined
  readonly 'history-ms': number
  readonly force: boolean
}

/** The result of reading `relay migrate …`. */
export type ParsedMigrateCommand =
  | { kind: 'help'; text: string }
  | { kind: 'migrate'; config: MigrateConfig }
  | { kind: 'invalid'; message: string }

const MIGRATE_OPTIONS = ['data', 'postgres-url', 'encryption-keys-file', 'history-ms'] as const
/** Feed entries and feed sequences copied per transaction. */
const FEED_BATCH = 1000

/** Reads the arguments after `migrate`, from flags or `WEFT_*` variables. */
export const parseMigrateCommand = (
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): ParsedMigrateCommand => {
  const parsed = parseCommandArgs(argv, { strings: MIGRATE_OPTIONS, booleans: ['force'] })
  if ('invalid' in parsed) return { kind: 'invalid', message: parsed.invalid }
  const { values } = parsed
  if (values.help === true) return { kind: 'help', text: migrateHelpText() }
  const read = readOptions(MIGRATE_OPTIONS, values, env)
  if ('invalid' in read) return { kind: 'invalid', message: read.invalid }
  const config: Record<string, unknown> = { ...read.config, force: values.force === true }
  if (config['postgres-url'] === undefined) {
    return { kind: 'invalid', message: 'migrate needs --postgres-url (or WEFT_POSTGRES_URL)' }
  }
  return { kind: 'migrate', config: config as unknown as MigrateConfig }
}

/** The `relay migrate --help` text. */
export const migrateHelpText = (): string =>
  [
    'Usage: pnpm relay migrate --data <dir> --postgres-url <url> [--encryption-keys-file <file>]',
    '                          [--history-ms <ms>] [--force]',
    '',
    "Copies a stopped relay's LevelDB data directory into PostgreSQL, for moving from one relay to",
    'several on --store postgres: every document (snapshot, log records with who sent them and',
    'when, sequence numbers, history), the change feed with its positions, and state records',
    '(webhook cursors, dead letters). One transaction per document, so it is safe to run again',
    'after an interruption: documents already copied are skipped. A target holding other data is',
    'refused. Finally every document is read from both stores and compared (state vector and',
    'encoded state), with the document count and the feed head. Logs JSON lines; exits 0 when',
    'everything was copied and verified, 1 otherwise, 2 for bad arguments.',
    '',
    'Options:',
    ...MIGRATE_OPTIONS.flatMap((name) => [
      `  --${name} <value>`,
      `      ${OPTIONS[name].help}. Env ${envName(name)}.`,
    ]),
    '  --force',
    '      empty a target that holds other data (documents, feed, state) before copying.',
  ].join('\n')

/** What `runMigrateCommand` needs from its process. */
export interface MigrateIo {
  readonly readKeys: (file: string) => Promise<EncryptionKey[]>
  readonly logger: Logger
}

/** Runs `relay migrate`; resolves with the exit code (0 migrated and verified, 1 failed, 2 bad arguments). */
export const runMigrateCommand = async (config: MigrateConfig, io: MigrateIo): Promise<number> => {
  const { logger } = io
  try {
    await access(config.data)
  } catch {
    logger.error('migrate: --data is not a relay data directory', { data: config.data })
    return 2
  }
  try {
    return await migrate(config, io)
  } catch (error) {
    logger.error('migrate failed', { error: String(error) })
    return 1
  }
}

const migrate = async (config: MigrateConfig, { readKeys, logger }: MigrateIo): Promise<number> => {
  const keysFile = config['encryption-keys-file']
  const keys = keysFile === undefined ? undefined : await readKeys(keysFile)
  const encryption = keys === undefined ? {} : { encryption: { keys } }
  const historyMs = config['history-ms']
  const url = config['postgres-url']
  const started = Date.now()
  const source = await LevelStore.open({ path: config.data, historyMs, ...encryption })
  try {
    const target = await PostgresImport.open({ url, ...encryption })
    try {
      if (!(await targetFits(source, target, config.force, logger))) return 1
      const copied = await copyAll(source, target, logger)
      if (!(await verify(source, { url, historyMs, ...encryption }, target, logger))) return 1
      logger.info('migrated', { ...copied, ms: Date.now() - started })
      return 0
    } finally {
      await target.close()
    }
  } finally {
    await source.close()
  }
}

/**
 * Whether the target may take the copy: empty, or holding only what an earlier run copied from
 * this source (the same documents at the same sequence numbers, no feed past the source's, no
 * other state keys). With `force`, a target holding anything else is emptied.
 */
const targetFits = async (
  source: LevelStore,
  target: PostgresImport,
  force: boolean,
  logger: Logger,
): Promise<boolean> => {
  if (await target.isEmpty()) return true
  let difference: string | null = null
  let matched = 0
  for await (const image of source.exportDocs()) {
    const head = await target.head(image.name)
    if (head === null) continue
    if (head.headSeq !== image.headSeq || head.compactedThrough !== image.compactedThrough) {
      difference = `document "${image.name}" is at ${head.headSeq} there, ${image.headSeq} here`
      break
    }
    matched += 1
  }
  const totals = await target.totals()
  const sourceFeed = await source.readFeed(0, 1)
  const sourceKeys = new Set((await source.readState('')).map((record) => record.key))
  const otherKey = (await target.stateKeys()).find((key) => !sourceKeys.has(key))
  difference ??=
    totals.docs > matched
      ? `it holds ${totals.docs - matched} documents the source does not`
      : totals.feedHead > sourceFeed.head
        ? `its change feed is at ${totals.feedHead}, the source's at ${sourceFeed.head}`
        : otherKey !== undefined
          ? `it holds state record "${otherKey}" the source does not`
          : null
  if (difference === null) {
    logger.info('migrate: target holds an earlier copy; continuing it', { docs: matched })
    return true
  }
  if (!force) {
    logger.error('migrate: the target holds different data; give --force to replace it', {
      difference,
    })
    return false
  }
  logger.warn('migrate: emptying the target (--force)', { difference })
  await target.clear()
  return true
}

/** Copies documents, then the feed, feed sequences and state records. */
const copyAll = async (
  source: LevelStore,
  target: PostgresImport,
  logger: Logger,
): Promise<{ docs: number; skipped: number; records: number; feedEntries: number }> => {
  let docs = 0
  let skipped = 0
  let records = 0
  for await (const image of source.exportDocs()) {
    docs += 1
    const head = await target.head(image.name)
    if (head?.headSeq === image.headSeq && head.compactedThrough === image.compactedThrough) {
      skipped += 1
      logger.info('migrate: document already copied', { doc: image.name, done: docs })
      continue
    }
    const written = await target.importDoc(image, source.exportRecords(image.name))
    records += written
    logger.info('migrate: document copied', {
      doc: image.name,
      headSeq: image.headSeq,
      records: written,
      done: docs,
    })
  }
  let feedEntries = 0
  let after = 0
  for (;;) {
    const page = await source.readFeed(after, FEED_BATCH)
    await target.importFeed(page.entries)
    feedEntries += page.entries.length
    const last = page.entries.at(-1)
    if (last === undefined) {
      await target.importFeedMeta(page.head, page.prunedThrough)
      break
    }
    after = last.position
    logger.info('migrate: feed copied', { through: after, head: page.head })
  }
  let seqs: Array<{ doc: string; seq: number }> = []
  for await (const seq of source.exportFeedSeqs()) {
    seqs.push(seq)
    if (seqs.length >= FEED_BATCH) {
      await target.importFeedSeqs(seqs)
      seqs = []
    }
  }
  await target.importFeedSeqs(seqs)
  const state = await source.readState('')
  await target.importState(state)
  logger.info('migrate: copied', { docs, skipped, records, feedEntries, state: state.length })
  return { docs, skipped, records, feedEntries }
}

/** The document a stored snapshot and log make. */
const yDocOf = (stored: { snapshot: Uint8Array | null; updates: readonly Uint8Array[] }): Y.Doc => {
  const doc = new Y.Doc()
  Y.transact(doc, () => {
    if (stored.snapshot !== null) Y.applyUpdate(doc, stored.snapshot)
    for (const update of stored.updates) Y.applyUpdate(doc, update)
  })
  return doc
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && a.every((byte, index) => byte === b[index])

/** Reads every document from both stores and compares them, then the counts and feed heads. */
const verify = async (
  source: LevelStore,
  options: Parameters<typeof PostgresStore.open>[0],
  target: PostgresImport,
  logger: Logger,
): Promise<boolean> => {
  const copy = await PostgresStore.open(options)
  const problems: string[] = []
  let docs = 0
  try {
    for await (const image of source.exportDocs()) {
      docs += 1
      const [from, to] = await Promise.all([source.load(image.name), copy.load(image.name)])
      const [a, b] = [yDocOf(from), yDocOf(to)]
      const same =
        from.headSeq === to.headSeq &&
        sameBytes(Y.encodeStateVector(a), Y.encodeStateVector(b)) &&
        sameBytes(Y.encodeStateAsUpdate(a), Y.encodeStateAsUpdate(b))
      a.destroy()
      b.destroy()
      if (!same) problems.push(`document "${image.name}" differs`)
      if (problems.length >= 10) break
    }
    const totals = await target.totals()
    const [fromFeed, toFeed] = await Promise.all([source.readFeed(0, 1), copy.readFeed(0, 1)])
    if (totals.docs !== docs) problems.push(`${docs} documents here, ${totals.docs} there`)
    if (fromFeed.head !== toFeed.head)
      problems.push(`feed head ${fromFeed.head} here, ${toFeed.head} there`)
  } finally {
    await copy.close()
  }
  if (problems.length > 0) {
    logger.error('migrate: verification failed', { problems })
    return false
  }
  logger.info('migrate: verified', { docs })
  return true
}
