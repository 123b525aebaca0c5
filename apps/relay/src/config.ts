/** The relay's configuration: one schema for flags and WEFT_* variables, with --help generated from it. */
import { parseArgs } from 'node:util'
import { z } from 'zod'

const MiB = 1024 * 1024

const integer = (min: number) => z.coerce.number().int().min(min)

/** Every option: its flag, environment variable, schema (with default) and help text. */
export const OPTIONS = {
  port: {
    schema: integer(0).max(65535).default(8787),
    help: 'TCP port to listen on (0 picks a free one)',
  },
  host: {
    schema: z.string().min(1).default('127.0.0.1'),
    help: 'interface to bind; 0.0.0.0 for all',
  },
  data: {
    schema: z.string().min(1).default('./data'),
    help: 'LevelDB directory (created if missing)',
  },
  store: {
    schema: z.enum(['level', 'memory']).default('level'),
    help: 'level (on disk) or memory (lost on exit)',
  },
  'static-dir': {
    schema: z.string().min(1).optional(),
    help: 'directory of a built web app served at / (default: the demo, apps/demo/dist)',
  },
  sync: {
    schema: z
      .enum(['true', 'false'])
      .default('true')
      .transform((value) => value === 'true'),
    help: 'fsync each write group before acknowledging (false: survives a relay crash, not a machine crash)',
  },
  auth: {
    schema: z.enum(['open', 'jwt']).optional(),
    help:
      'required: jwt (verify tokens; with --jwt-secret, --jwt-public-key-file or --jwks-url) or ' +
      'open (anyone may read and write every document; local development only)',
  },
  'jwt-secret': {
    schema: z.string().min(32, 'the HS256 secret must be at least 32 characters').optional(),
    help: 'HS256 shared secret (prefer the WEFT_JWT_SECRET variable to a flag)',
  },
  'jwt-public-key-file': {
    schema: z.string().min(1).optional(),
    help: 'PEM (SPKI) public key file for RS256, EdDSA or ES256 tokens',
  },
  'jwt-algorithm': {
    schema: z.enum(['RS256', 'EdDSA', 'ES256']).default('RS256'),
    help: 'algorithm of --jwt-public-key-file',
  },
  'jwks-url': {
    schema: z.url().optional(),
    help: 'URL of a JSON Web Key Set (fetched and cached; refetched for unknown key ids)',
  },
  'jwt-clock-tolerance-sec': {
    schema: integer(0).default(30),
    help: 'allowed clock difference for exp and nbf, in seconds',
  },
  'jwt-issuer': { schema: z.string().min(1).optional(), help: 'required iss claim' },
  'jwt-audience': { schema: z.string().min(1).optional(), help: 'required aud claim' },
  'encryption-keys-file': {
    schema: z.string().min(1).optional(),
    help:
      'encrypt stored values (AES-256-GCM) with the keys of this JSON file, ' +
      '{ "keys": [{ "id": "2026-01", "key": "<base64 of 32 bytes>" }, …] }; the last key ' +
      'encrypts, every key decrypts',
  },
  'tls-cert-file': {
    schema: z.string().min(1).optional(),
    help: 'PEM certificate (chain) file; with --tls-key-file, serve https:// and wss://',
  },
  'tls-key-file': {
    schema: z.string().min(1).optional(),
    help: 'PEM private key file of --tls-cert-file',
  },
  'log-level': {
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    help: 'minimum level of the JSON log lines on stdout',
  },
  'max-message-bytes': {
    schema: integer(1).default(16 * MiB),
    help: 'largest frame accepted; bigger closes with 1009',
  },
  'max-buffered-bytes': {
    schema: integer(1).default(64 * MiB),
    help: 'send buffer over which a slow socket is closed',
  },
  'max-docs-per-socket': {
    schema: integer(1).default(256),
    help: 'documents one Weft socket may open',
  },
  'max-messages-per-sec': {
    schema: integer(1).default(2000),
    help: 'messages a second one socket may send (twice that in a burst); beyond, reading pauses',
  },
  'max-bytes-per-sec': {
    schema: integer(1).default(8 * MiB),
    help: 'bytes a second one socket may send (twice that in a burst); beyond, reading pauses',
  },
  'max-connections-per-address': {
    schema: integer(1).default(1024),
    help: 'open sockets from one remote address; more are refused with HTTP 429',
  },
  'max-header-bytes': {
    schema: integer(256).default(8192),
    help: 'bytes of headers an upgrade request may carry; more are refused with HTTP 431',
  },
  'allowed-origins': {
    schema: z
      .string()
      .optional()
      .transform((value) =>
        value === undefined
          ? undefined
          : value
              .split(',')
              .map((origin) => origin.trim())
              .filter((origin) => origin.length > 0),
      ),
    help: 'comma-separated browser origins allowed to connect (others get 403); default any',
  },
  'max-queued-bytes': {
    schema: integer(1).default(32 * MiB),
    help: 'bytes a socket may queue while a document loads',
  },
  'hello-timeout-ms': {
    schema: integer(1).default(10_000),
    help: 'time a socket has to send hello and have its token verified',
  },
  'max-pre-auth-messages': {
    schema: integer(1).default(64),
    help: 'messages a Weft socket may send before its token is verified',
  },
  'max-pre-auth-bytes': {
    schema: integer(1).default(MiB),
    help: 'and their bytes',
  },
  'heartbeat-interval-ms': {
    schema: integer(0).default(30_000),
    help: 'WebSocket ping interval (0 disables)',
  },
  'unload-grace-ms': {
    schema: integer(1).default(30_000),
    help: 'how long an idle document stays loaded',
  },
  'compact-after-updates': {
    schema: integer(1).default(10_000),
    help: 'compact a log once it holds this many updates',
  },
  'compact-after-bytes': { schema: integer(1).default(16 * MiB), help: 'or this many bytes' },
} as const

type OptionName = keyof typeof OPTIONS

/** Options whose values are secrets, never repeated in messages. */
const SECRET_OPTIONS: ReadonlySet<string> = new Set<OptionName>(['jwt-secret'])

/** The relay's resolved configuration. */
export type RelayConfig = { [K in OptionName]: z.output<(typeof OPTIONS)[K]['schema']> }

/** The environment variable of an option: `--max-message-bytes` ↔ `WEFT_MAX_MESSAGE_BYTES`. */
export const envName = (option: string): string =>
  `WEFT_${option.toUpperCase().replaceAll('-', '_')}`

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

/** The options of `relay reencrypt`. */
export interface ReencryptConfig {
  readonly data: string
  readonly 'encryption-keys-file': string
}

/** The result of reading `relay reencrypt …`. */
export type ParsedReencryptCommand =
  | { kind: 'help'; text: string }
  | { kind: 'reencrypt'; config: ReencryptConfig }
  | { kind: 'invalid'; message: string }

const REENCRYPT_OPTIONS = ['data', 'encryption-keys-file'] as const

/**
 * Reads the arguments after `reencrypt`: `--data` and the required `--encryption-keys-file`, from
 * flags or `WEFT_*` variables like the relay's own options.
 */
export const parseReencryptCommand = (
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): ParsedReencryptCommand => {
  let values: Record<string, string | boolean | undefined>
  try {
    ;({ values } = parseArgs({
      args: [...argv],
      options: {
        help: { type: 'boolean', short: 'h' },
        data: { type: 'string' },
        'encryption-keys-file': { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }))
  } catch (error) {
    return {
      kind: 'invalid',
      message: `${(error as Error).message}
Run with --help.`,
    }
  }
  if (values.help === true) return { kind: 'help', text: reencryptHelpText() }
  const config: Record<string, unknown> = {}
  for (const name of REENCRYPT_OPTIONS) {
    const raw = values[name] ?? (env[envName(name)] || undefined)
    const result = OPTIONS[name].schema.safeParse(raw)
    if (!result.success) {
      const source = values[name] !== undefined ? `--${name}` : envName(name)
      const issue = result.error.issues[0]?.message ?? 'invalid value'
      return { kind: 'invalid', message: `${source}=${String(raw)}: ${issue}` }
    }
    config[name] = result.data
  }
  if (config['encryption-keys-file'] === undefined) {
    return { kind: 'invalid', message: 'reencrypt needs --encryption-keys-file' }
  }
  return { kind: 'reencrypt', config: config as unknown as ReencryptConfig }
}

/** The `relay reencrypt --help` text. */
export const reencryptHelpText = (): string =>
  [
    'Usage: pnpm relay reencrypt --data <dir> --encryption-keys-file <file>',
    '',
    "Rewrites every stored value of a stopped relay's data directory under the last key of the",
    'keys file (plaintext values included), in batches; safe to interrupt and run again. Then',
    'older keys can be removed from the file.',
    '',
    'Options:',
    ...REENCRYPT_OPTIONS.flatMap((name) => [
      `  --${name} <value>`,
      `      ${OPTIONS[name].help}. Env ${envName(name)}.`,
    ]),
  ].join('\n')

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
