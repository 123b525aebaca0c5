/**
 * `relay reencrypt`: rewrites a store's values under the newest key of a keys file — a stopped
 * relay's LevelDB directory, or the PostgreSQL database relays share (while they run).
 */
import { access } from 'node:fs/promises'
import type { Logger } from '@weft/server'
import { LevelStore, type EncryptionKey } from '@weft/store-level'
import { PostgresStore } from '@weft/store-postgres'
import { parseCommandArgs } from './command-args.js'
import { envName, OPTIONS, readOptions } from './options.js'

/** The options of `relay reencrypt`: the store to rewrite, and the keys file. */
export type ReencryptConfig =
  | {
      readonly store: 'level'
      readonly data: string
      readonly 'encryption-keys-file': string
    }
  | {
      readonly store: 'postgres'
      readonly 'postgres-url': string
      readonly 'encryption-keys-file': string
    }

/** The result of reading `relay reencrypt …`. */
export type ParsedReencryptCommand =
  | { kind: 'help'; text: string }
  | { kind: 'reencrypt'; config: ReencryptConfig }
  | { kind: 'invalid'; message: string }

const REENCRYPT_OPTIONS = ['store', 'data', 'postgres-url', 'encryption-keys-file'] as const

/** Help of the options whose relay help does not fit this command. */
const HELP: Partial<Record<(typeof REENCRYPT_OPTIONS)[number], string>> = {
  store: 'level (the LevelDB directory --data) or postgres (the database at --postgres-url)',
}

/**
 * Reads the arguments after `reencrypt`: `--store` with `--data` or `--postgres-url`, and the
 * required `--encryption-keys-file`, from flags or `WEFT_*` variables like the relay's own
 * options.
 */
export const parseReencryptCommand = (
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): ParsedReencryptCommand => {
  const parsed = parseCommandArgs(argv, { strings: REENCRYPT_OPTIONS })
  if ('invalid' in parsed) return { kind: 'invalid', message: parsed.invalid }
  const { values } = parsed
  if (values.help === true) return { kind: 'help', text: reencryptHelpText() }
  const read = readOptions(REENCRYPT_OPTIONS, values, env)
  if ('invalid' in read) return { kind: 'invalid', message: read.invalid }
  const { config } = read
  const keysFile = config['encryption-keys-file'] as string | undefined
  if (keysFile === undefined) {
    return { kind: 'invalid', message: 'reencrypt needs --encryption-keys-file' }
  }
  switch (config['store']) {
    case 'level':
      return {
        kind: 'reencrypt',
        config: {
          store: 'level',
          data: config['data'] as string,
          'encryption-keys-file': keysFile,
        },
      }
    case 'postgres': {
      const url = config['postgres-url'] as string | undefined
      if (url === undefined) {
        return {
          kind: 'invalid',
          message: 'reencrypt --store postgres needs --postgres-url (or WEFT_POSTGRES_URL)',
        }
      }
      return {
        kind: 'reencrypt',
        config: { store: 'postgres', 'postgres-url': url, 'encryption-keys-file': keysFile },
      }
    }
    default:
      return {
        kind: 'invalid',
        message: 'reencrypt works on --store level or postgres (the memory store keeps nothing)',
      }
  }
}

/** The `relay reencrypt --help` text. */
export const reencryptHelpText = (): string =>
  [
    'Usage: pnpm relay reencrypt --data <dir> --encryption-keys-file <file>',
    '       pnpm relay reencrypt --store postgres --postgres-url <url> --encryption-keys-file <file>',
    '',
    'Rewrites every stored value under the last key of the keys file (plaintext values included)',
    'in batches, each one atomic; safe to interrupt and run again. Then older keys can be removed',
    "from the file. LevelDB: a stopped relay's data directory (one a running relay holds is",
    'refused). PostgreSQL: the relays may keep running, each given the new keys file first so that',
    'they write under the new key; every batch locks the rows it rewrites, so no write is lost.',
    'Logs JSON lines; exits 0 when every value is under the newest key, 1 when stopped (SIGINT or',
    'SIGTERM, after the batch in progress) or failed, 2 for bad arguments.',
    '',
    'Options:',
    ...REENCRYPT_OPTIONS.flatMap((name) => [
      `  --${name} <value>`,
      `      ${HELP[name] ?? OPTIONS[name].help}. Env ${envName(name)}.`,
    ]),
  ].join('\n')

/** What `runReencryptCommand` needs from its process. */
export interface ReencryptIo {
  readonly readKeys: (file: string) => Promise<EncryptionKey[]>
  readonly logger: Logger
  /** Stops it after the batch in progress (the process's SIGINT or SIGTERM). */
  readonly signal?: AbortSignal
}

/**
 * Runs `relay reencrypt`; resolves with the exit code: 0 every value is under the newest key,
 * 1 stopped by `signal` or failed.
 */
export const runReencryptCommand = async (
  config: ReencryptConfig,
  io: ReencryptIo,
): Promise<number> => {
  try {
    return await reencrypt(config, io)
  } catch (error) {
    io.logger.error('reencrypt failed', {
      error: String(error),
      cause: String((error as Error).cause ?? ''),
    })
    return 1
  }
}

const openStore = async (
  config: ReencryptConfig,
  keys: EncryptionKey[],
): Promise<LevelStore | PostgresStore> => {
  if (config.store === 'postgres') {
    return PostgresStore.open({ url: config['postgres-url'], encryption: { keys } })
  }
  // LevelDB would create a missing directory; a mistyped --data must not look like a success.
  await access(config.data).catch((cause: unknown) => {
    throw new Error(`--data ${config.data} is not a relay data directory`, { cause })
  })
  return LevelStore.open({ path: config.data, encryption: { keys } })
}

const reencrypt = async (
  config: ReencryptConfig,
  { readKeys, logger, signal }: ReencryptIo,
): Promise<number> => {
  const keys = await readKeys(config['encryption-keys-file'])
  const store = await openStore(config, keys)
  try {
    const result = await store.reencrypt({
      ...(signal === undefined ? {} : { signal }),
      onBatch: (progress) => logger.debug('reencrypt batch', { ...progress }),
    })
    const key = keys.at(-1)!.id
    if (!result.complete) {
      logger.warn('reencrypt stopped; run it again to finish', { ...result, key })
      return 1
    }
    // Never the PostgreSQL URL: it holds the password.
    const where =
      config.store === 'level' ? { store: 'level', data: config.data } : { store: 'postgres' }
    logger.info('reencrypted', { ...result, key, ...where })
    return 0
  } finally {
    await store.close()
  }
}
