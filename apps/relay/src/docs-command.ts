/**
 * `relay docs …` (also `pnpm weft docs …`): the admin operations on a stopped relay's data
 * directory, through the same `relay.admin` code as the `/admin` routes.
 */
import { access, readFile, writeFile } from 'node:fs/promises'
import { WeftError } from '@weft/protocol'
import { openAuth, Relay, silentLogger } from '@weft/server'
import { LevelStore } from '@weft/store-level'
import { parseCommandArgs } from './command-args.js'
import { envName, OPTIONS } from './options.js'

const ACTIONS = [
  'list',
  'inspect',
  'export',
  'import',
  'delete',
  'compact',
  'history',
  'restore',
] as const
type Action = (typeof ACTIONS)[number]

/** A parsed `relay docs` command line. */
export type ParsedDocsCommand =
  | { kind: 'help'; text: string }
  | {
      kind: 'docs'
      action: Action
      name: string | undefined
      data: string
      keysFile: string | undefined
      file: string | undefined
      /** `--at`: milliseconds since the epoch, or an ISO date. */
      at: number | undefined
      /** The relay's history window: compaction here must keep what the relay keeps. */
      historyMs: number
    }
  | { kind: 'invalid'; message: string }

/** Reads the arguments after `docs`: an action, a document name, `--data`, and `--file`. */
export const parseDocsCommand = (
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): ParsedDocsCommand => {
  const parsed = parseCommandArgs(argv, {
    strings: ['data', 'encryption-keys-file', 'file', 'at', 'history-ms'],
    positionals: true,
  })
  if ('invalid' in parsed) return { kind: 'invalid', message: parsed.invalid }
  const { values, positionals } = parsed
  if (values.help === true) return { kind: 'help', text: docsHelpText() }
  const [action, name, ...rest] = positionals
  if (!(ACTIONS as readonly string[]).includes(action ?? '')) {
    return { kind: 'invalid', message: `docs needs an action: ${ACTIONS.join(', ')}` }
  }
  if (action !== 'list' && name === undefined) {
    return { kind: 'invalid', message: `docs ${action} needs a document name` }
  }
  if (rest.length > 0 || (action === 'list' && name !== undefined)) {
    return { kind: 'invalid', message: `unexpected argument "${rest[0] ?? name}"` }
  }
  const atText = values.at as string | undefined
  const at =
    atText === undefined ? undefined : /^\d+$/.test(atText) ? Number(atText) : Date.parse(atText)
  if (at !== undefined && !Number.isSafeInteger(at)) {
    return {
      kind: 'invalid',
      message: `--at ${atText}: give milliseconds since the epoch or an ISO date`,
    }
  }
  if (action === 'restore' && at === undefined) {
    return { kind: 'invalid', message: 'docs restore needs --at <time>' }
  }
  const history = OPTIONS['history-ms'].schema.safeParse(
    (values['history-ms'] as string | undefined) ?? (env[envName('history-ms')] || undefined),
  )
  if (!history.success)
    return { kind: 'invalid', message: '--history-ms must be a non-negative integer' }
  const data = OPTIONS.data.schema.parse(
    (values.data as string | undefined) ?? (env[envName('data')] || undefined),
  )
  const keysFile =
    (values['encryption-keys-file'] as string | undefined) ??
    (env[envName('encryption-keys-file')] || undefined)
  return {
    kind: 'docs',
    action: action as Action,
    name,
    data,
    keysFile,
    file: values.file as string | undefined,
    at,
    historyMs: history.data,
  }
}

/** The `relay docs --help` text. */
export const docsHelpText = (): string =>
  [
    'Usage: pnpm weft docs list                      [--data <dir>]',
    '       pnpm weft docs inspect <name>            [--data <dir>]',
    '       pnpm weft docs export  <name> [--file <out>] (default: standard output)',
    '       pnpm weft docs import  <name> [--file <in>]  (default: standard input)',
    '       pnpm weft docs delete  <name>',
    '       pnpm weft docs compact <name>',
    '       pnpm weft docs history <name>            who changed it and when',
    '       pnpm weft docs export  <name> --at <time> [--file <out>]  the document then',
    '       pnpm weft docs restore <name> --at <time>  make it read as it did then',
    '',
    "Operates on a stopped relay's data directory (a running relay holds its lock: use the",
    '/admin routes then). list, inspect and compact print JSON; export writes the document as',
    'one Yjs update; import applies one as a forward change; restore writes the change that',
    'makes the document read as it did at --at (milliseconds since the epoch or an ISO date),',
    "within the relay's --history-ms window. Options: --data (env WEFT_DATA,",
    "default ./data), --history-ms (env WEFT_HISTORY_MS; give the relay's, so compaction here",
    'keeps what it keeps) and --encryption-keys-file (env WEFT_ENCRYPTION_KEYS_FILE).',
  ].join('\n')

const readAll = async (file: string | undefined): Promise<Uint8Array> => {
  if (file !== undefined) return new Uint8Array(await readFile(file))
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return new Uint8Array(Buffer.concat(chunks))
}

/**
 * Runs one `docs` command; returns the exit code. `readKeys` reads an encryption keys file.
 * Output goes to `out` (JSON or bytes), problems to `err`.
 */
export const runDocsCommand = async (
  command: Extract<ParsedDocsCommand, { kind: 'docs' }>,
  io: {
    readKeys: (file: string) => Promise<Array<{ id: string; key: Uint8Array }>>
    out: (data: string | Uint8Array) => Promise<void>
    err: (line: string) => void
  },
): Promise<number> => {
  try {
    await access(command.data)
  } catch {
    io.err(`--data ${command.data} is not a relay data directory`)
    return 2
  }
  let store: LevelStore
  try {
    const keys = command.keysFile === undefined ? null : await io.readKeys(command.keysFile)
    store = await LevelStore.open({
      path: command.data,
      historyMs: command.historyMs,
      ...(keys === null ? {} : { encryption: { keys } }),
    })
  } catch (error) {
    const cause = String((error as Error).cause ?? '')
    io.err(
      /lock|another relay/i.test(`${String(error)} ${cause}`)
        ? `cannot open ${command.data}: a running relay holds it; stop it or use the /admin routes`
        : `cannot open ${command.data}: ${String(error)} ${cause}`,
    )
    return 1
  }
  const relay = new Relay({ store, auth: openAuth(), logger: silentLogger, unloadGraceMs: 1 })
  const { admin } = relay
  const name = command.name as string
  try {
    switch (command.action) {
      case 'list':
        await io.out(`${JSON.stringify(await admin.list(), null, 2)}\n`)
        break
      case 'inspect':
        await io.out(`${JSON.stringify(await admin.inspect(name), null, 2)}\n`)
        break
      case 'export': {
        const bytes =
          command.at === undefined
            ? await admin.export(name)
            : await admin.stateAt(name, command.at)
        if (command.file === undefined) await io.out(bytes)
        else await writeFile(command.file, bytes)
        break
      }
      case 'import':
        await admin.import(name, await readAll(command.file), 'cli')
        break
      case 'delete':
        await admin.delete(name, 'cli')
        break
      case 'history':
        await io.out(`${JSON.stringify(await admin.history(name), null, 2)}\n`)
        break
      case 'restore':
        await io.out(`${JSON.stringify(await admin.restore(name, command.at as number, 'cli'))}\n`)
        break
      case 'compact':
        await io.out(`${JSON.stringify(await admin.compact(name))}\n`)
        break
    }
    return 0
  } catch (error) {
    io.err(error instanceof WeftError ? `${error.code}: ${error.message}` : String(error))
    return 1
  } finally {
    await relay.close()
    await store.close()
  }
}
