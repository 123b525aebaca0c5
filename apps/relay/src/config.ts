/** The relay's command line: parsed from flags and WEFT_* variables, with --help generated. */
import { parseArgs } from 'node:util'
import { envName, OPTIONS, SECRET_OPTIONS, type OptionName, type RelayConfig } from './options.js'

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
 * Reads flags, then `WEFT_*` variables, then defaults (flags win). Unknown flags and invalid
 * values come back as `invalid` with a message naming the option.
 */
export const parseCommand = (argv: readonly string[], env: NodeJS.ProcessEnv): ParsedCommand => {
  const names = Object.keys(OPTIONS) as OptionName[]
  let values: Record<string, string | boolean | undefined>
  try {
    ;({ values } = parseArgs({
      args: [...argv],
      options: {
        help: { type: 'boolean', short: 'h' },
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
  const config: Record<string, unknown> = {}
  for (const name of names) {
    const raw = values[name] ?? (env[envName(name)] || undefined)
    const source = values[name] !== undefined ? `--${name}` : envName(name)
    const result = OPTIONS[name].schema.safeParse(raw)
    if (!result.success) {
      const issue = result.error.issues[0]?.message ?? 'invalid value'
      // A secret is never echoed: the message goes to stderr and into whatever collects it.
      const shown = SECRET_OPTIONS.has(name) ? '(hidden)' : String(raw)
      return { kind: 'invalid', message: `${source}=${shown}: ${issue}` }
    }
    config[name] = result.data
  }
  const problem = authProblem(config as RelayConfig) ?? encryptionTlsProblem(config as RelayConfig)
  if (problem !== undefined) return { kind: 'invalid', message: problem }
  return { kind: 'run', config: config as RelayConfig }
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
  return undefined
}

/** What is wrong with the encryption and TLS options taken together, if anything. */
const encryptionTlsProblem = (config: RelayConfig): string | undefined => {
  if (config['encryption-keys-file'] !== undefined && config.store !== 'level') {
    return '--encryption-keys-file applies to --store level only (memory keeps nothing on disk)'
  }
  if ((config['tls-cert-file'] === undefined) !== (config['tls-key-file'] === undefined)) {
    return '--tls-cert-file and --tls-key-file go together: give both (TLS) or neither'
  }
  return undefined
}

/** The --help text, generated from {@link OPTIONS}. */
export const helpText = (): string => {
  const lines = [
    'Usage: pnpm relay [options]',
    '       pnpm relay reencrypt --help',
    '',
    'Runs the Weft relay: WebSocket sync (Weft and y-websocket dialects) on one port, with',
    'documents stored on disk. Every option can also be set with its WEFT_* variable;',
    'flags take precedence.',
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
  lines.push('  -h, --help')
  lines.push('      show this help and exit.')
  return lines.join('\n')
}
