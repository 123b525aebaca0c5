/** `relay reencrypt`: its options, parsing and help text. */
import { parseArgs } from 'node:util'
import { envName, OPTIONS, readOptions } from './options.js'

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
  const read = readOptions(REENCRYPT_OPTIONS, values, env)
  if ('invalid' in read) return { kind: 'invalid', message: read.invalid }
  const { config } = read
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
