/** parseCommandArgs: the flags of one of the relay's subcommands, read the same way for each. */
import { parseArgs } from 'node:util'

/** What a subcommand was given: flag values by name, and the words that are not flags. */
export interface CommandArgs {
  readonly values: Record<string, string | boolean | undefined>
  readonly positionals: readonly string[]
}

/**
 * Reads `argv` strictly: `-h`/`--help`, the string flags `strings`, the boolean flags
 * `booleans`, and positionals only when `positionals` is true. An unknown or malformed flag
 * gives `{ invalid }` with node's message and a pointer to `--help`.
 */
export const parseCommandArgs = (
  argv: readonly string[],
  flags: {
    readonly strings: readonly string[]
    readonly booleans?: readonly string[]
    readonly positionals?: boolean
  },
): CommandArgs | { invalid: string } => {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: {
        help: { type: 'boolean', short: 'h' },
        ...Object.fromEntries(flags.strings.map((name) => [name, { type: 'string' as const }])),
        ...Object.fromEntries(
          (flags.booleans ?? []).map((name) => [name, { type: 'boolean' as const }]),
        ),
      },
      strict: true,
      allowPositionals: flags.positionals ?? false,
    })
    return { values, positionals }
  } catch (error) {
    return { invalid: `${(error as Error).message}\nRun with --help.` }
  }
}
