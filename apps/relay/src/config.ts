/** The relay's command line: parsed from flags and WEFT_* variables, with --help generated. */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { envName, OPTIONS, readOptions, type OptionName, type RelayConfig } from './options.js'

export { envName, OPTIONS, type RelayConfig } from './options.js'
export {
  parseReencryptCommand,
  reencryptHelpText,
  type ParsedReencryptCommand,
  type ReencryptConfig,
} from './reencrypt-command.js'

/** The result of reading the command line. */
export type ParsedCommand =
  | { kind: 'help'; text: string }
  | { kind: 'run'; config: RelayConfig }
  | { kind: 'invalid'; message: string }

/**
 * Reads flags, then `WEFT_*` variables, then the `--config` file (`WEFT_CONFIG`), then defaults:
 * the first that sets an option wins. Unknown flags or file keys and invalid values come back as
 * `invalid` with a message naming the option and where it was set.
 */
export const parseCommand = (argv: readonly string[], env: NodeJS.ProcessEnv): ParsedCommand => {
  const names = Object.keys(OPTIONS) as OptionName[]
  let values: Record<string, string | boolean | undefined>
  try {
    ;({ values } = parseArgs({
      args: [...argv],
      options: {
        help: { type: 'boolean', short: 'h' },
        config: { type: 'string' },
        ...Object.fromEntries(names.map((name) => [name, { type: 'string' as const }])),
      },
      strict: true,
      allowPositionals: false,
    }))
  } catch (error) {
    return {
      kind: 'invalid',
      message: `${(error as Error).message}\nRun with --help to list the options.`,
    }
  }
  if (values.help === true) return { kind: 'help', text: helpText() }
  const configFile = (values.config as string | undefined) ?? (env['WEFT_CONFIG'] || undefined)
  const file = configFile === undefined ? {} : readConfigFile(configFile)
  if (typeof file === 'string') return { kind: 'invalid', message: file }
  const read = readOptions(
    names,
    values,
    env,
    configFile === undefined ? undefined : { path: configFile, values: file },
  )
  if ('invalid' in read) return { kind: 'invalid', message: read.invalid }
  const { config } = read
  const problem =
    authProblem(config as RelayConfig) ??
    encryptionTlsProblem(config as RelayConfig) ??
    listenerProblem(config as RelayConfig)
  if (problem !== undefined) return { kind: 'invalid', message: problem }
  return { kind: 'run', config: config as RelayConfig }
}

/**
 * A `--config` file: one JSON object whose keys are option names (as the flags, without `--`)
 * and whose values are strings, numbers, booleans or (for lists) arrays of strings. Returns the
 * values as flag strings, or a message saying what is wrong.
 */
const readConfigFile = (path: string): Record<string, string> | string => {
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'))
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'not valid JSON'
    return `--config ${path}: cannot be read (${reason})`
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return `--config ${path}: needs one JSON object of options, like { "port": 8787, "auth": "jwt" }`
  }
  const values: Record<string, string> = {}
  for (const [key, value] of Object.entries(parsed)) {
    if (!(key in OPTIONS)) {
      return `--config ${path}: unknown option "${key}"; options are ${Object.keys(OPTIONS).join(', ')}`
    }
    if (Array.isArray(value) && value.every((item) => typeof item === 'string')) {
      values[key] = value.join(',')
    } else if (['string', 'number', 'boolean'].includes(typeof value)) {
      values[key] = String(value)
    } else {
      return `--config ${path}: "${key}" must be a string, a number, a boolean or a list of strings`
    }
  }
  return values
}

/** What is wrong with the authentication options taken together, if anything. */
const authProblem = (config: RelayConfig): string | undefined => {
  const keys = (['jwt-secret', 'jwt-public-key-file', 'jwks-url'] as const).filter(
    (key) => config[key] !== undefined,
  )
  if (config.auth === undefined) {
    return (
      '--auth is required: jwt (with --jwt-secret, --jwt-public-key-file or --jwks-url) or ' +
      'open (anyone may read and write every document; for local development).'
    )
  }
  if (config.auth === 'open' && keys.length > 0) {
    return `--auth open takes no key, but ${keys.map((key) => `--${key}`).join(', ')} was given`
  }
  if (config.auth === 'jwt' && keys.length !== 1) {
    return (
      '--auth jwt needs exactly one of --jwt-secret, --jwt-public-key-file or --jwks-url' +
      (keys.length > 1 ? ` (got ${keys.map((key) => `--${key}`).join(', ')})` : '')
    )
  }
  if (config['jwt-extra-secret'] !== undefined && config['jwt-secret'] === undefined) {
    return '--jwt-extra-secret is accepted beside --jwt-secret only (HS256): give both'
  }
  return undefined
}

/** What is wrong with the encryption, TLS and webhook options taken together, if anything. */
const encryptionTlsProblem = (config: RelayConfig): string | undefined => {
  if (config['encryption-keys-file'] !== undefined && config.store === 'memory') {
    return '--encryption-keys-file applies to --store level and postgres (memory keeps nothing on disk)'
  }
  if ((config.store === 'postgres') !== (config['postgres-url'] !== undefined)) {
    return config.store === 'postgres'
      ? '--store postgres needs --postgres-url (or WEFT_POSTGRES_URL)'
      : '--postgres-url applies to --store postgres only'
  }
  if (config['redis-url'] !== undefined && config.store !== 'postgres') {
    return '--redis-url links relays that share one store: it needs --store postgres'
  }
  if (config['webhooks-file'] !== undefined && config['history-ms'] === 0) {
    return '--webhooks-file needs the change feed, which keeps --history-ms: give it above 0'
  }
  if ((config['tls-cert-file'] === undefined) !== (config['tls-key-file'] === undefined)) {
    return '--tls-cert-file and --tls-key-file go together: give both (TLS) or neither'
  }
  return undefined
}

/** What is wrong with the listener and operator-route options taken together, if anything. */
const listenerProblem = (config: RelayConfig): string | undefined => {
  if (config['metrics-auth'] === 'admin-token' && config['admin-token'] === undefined) {
    return '--metrics-auth admin-token needs --admin-token (or WEFT_ADMIN_TOKEN)'
  }
  const adminPort = config['admin-port']
  if (adminPort !== undefined && adminPort !== 0 && adminPort === config.port) {
    return `--admin-port ${adminPort} is --port too: give the admin listener a port of its own`
  }
  return undefined
}

/** The --help text, generated from {@link OPTIONS}. */
export const helpText = (): string => {
  const lines = [
    'Usage: pnpm relay [options]',
    '       pnpm relay reencrypt --help',
    '       pnpm relay migrate --help',
    '       pnpm relay revoke --help',
    '',
    'Runs the Weft relay: WebSocket sync (Weft and y-websocket dialects) on one port, with',
    'documents stored on disk or in PostgreSQL. Every option can also be set with its WEFT_* variable or in',
    'a JSON file given with --config (keys are the option names); flags win over',
    'variables, variables over the file.',
    '',
    'Options:',
  ]
  for (const [name, option] of Object.entries(OPTIONS)) {
    const fallback = option.schema.parse(undefined)
    lines.push(`  --${name} <value>`)
    lines.push(
      `      ${option.help}. Env ${envName(name)}` +
        (fallback === undefined ? '.' : `, default ${String(fallback)}.`),
    )
  }
  lines.push('  --config <file>')
  lines.push(
    '      a JSON object of options, e.g. { "port": 8787, "auth": "jwt" }. Env WEFT_CONFIG.',
  )
  lines.push('  -h, --help')
  lines.push('      show this help and exit.')
  return lines.join('\n')
}
