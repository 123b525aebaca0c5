/**
 * `relay revoke …` (also `pnpm weft revoke …`): add, list and lift token revocations through a
 * running relay's `/admin/revocations` routes, so that every relay sharing its store and bus
 * enforces them at once.
 */
import { parseCommandArgs } from './command-args.js'

const ACTIONS = ['add', 'list', 'lift'] as const
type Action = (typeof ACTIONS)[number]

/** A parsed `relay revoke` command line. */
export type ParsedRevokeCommand =
  | { kind: 'help'; text: string }
  | {
      kind: 'revoke'
      action: Action
      /** The relay's HTTP(S) base URL. */
      url: string
      adminToken: string
      /** `add`: the JSON body of `POST /admin/revocations`; `lift`: the revocation's id. */
      body: Record<string, unknown> | undefined
      id: string | undefined
    }
  | { kind: 'invalid'; message: string }

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** `90s`, `15m`, `12h`, `7d`, `500ms` or a bare number of milliseconds; NaN otherwise. */
export const parseDurationMs = (text: string): number => {
  const match = /^(\d+)(ms|s|m|h|d)?$/.exec(text.trim())
  if (match === null) return Number.NaN
  return Number(match[1]) * (UNITS[match[2] ?? 'ms'] as number)
}

/** Reads the arguments after `revoke`. */
export const parseRevokeCommand = (
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): ParsedRevokeCommand => {
  const parsed = parseCommandArgs(argv, {
    strings: ['url', 'admin-token', 'subject', 'token-id', 'ttl', 'expires-at', 'reason'],
    positionals: true,
  })
  if ('invalid' in parsed) return { kind: 'invalid', message: parsed.invalid }
  const { values, positionals } = parsed
  if (values.help === true) return { kind: 'help', text: revokeHelpText() }
  const [first, second, ...rest] = positionals
  const action = (first ?? 'add') as Action
  if (!(ACTIONS as readonly string[]).includes(action)) {
    return { kind: 'invalid', message: `revoke needs an action: ${ACTIONS.join(', ')}` }
  }
  if (action === 'lift' && second === undefined) {
    return {
      kind: 'invalid',
      message: 'revoke lift needs the id of a revocation (see revoke list)',
    }
  }
  const extra = action === 'lift' ? rest[0] : (second ?? rest[0])
  if (extra !== undefined) return { kind: 'invalid', message: `unexpected argument "${extra}"` }
  const url = (values.url as string | undefined) ?? (env['WEFT_RELAY_URL'] || undefined)
  if (url === undefined || !/^https?:\/\/./.test(url)) {
    return {
      kind: 'invalid',
      message: '--url (env WEFT_RELAY_URL) must be the http:// or https:// URL of a running relay',
    }
  }
  const adminToken =
    (values['admin-token'] as string | undefined) ?? (env['WEFT_ADMIN_TOKEN'] || undefined)
  if (adminToken === undefined || adminToken === '') {
    return { kind: 'invalid', message: "--admin-token (env WEFT_ADMIN_TOKEN): the relay's token" }
  }
  const base = { kind: 'revoke' as const, action, url: url.replace(/\/+$/, ''), adminToken }
  if (action === 'list') return { ...base, body: undefined, id: undefined }
  if (action === 'lift') return { ...base, body: undefined, id: second }
  const body = addBody(values as Record<string, string | undefined>)
  return typeof body === 'string'
    ? { kind: 'invalid', message: body }
    : { ...base, body, id: undefined }
}

/** The body of `POST /admin/revocations` the flags ask for, or what is wrong with them. */
const addBody = (values: Record<string, string | undefined>): Record<string, unknown> | string => {
  const { subject, 'token-id': tokenId, ttl, 'expires-at': expiresAt, reason } = values
  if ((subject === undefined) === (tokenId === undefined)) {
    return 'revoke needs exactly one of --subject <sub> or --token-id <jti>'
  }
  if ((ttl === undefined) === (expiresAt === undefined)) {
    return 'revoke needs exactly one of --ttl <duration> or --expires-at <time>'
  }
  const body: Record<string, unknown> = subject !== undefined ? { subject } : { tokenId }
  if (ttl !== undefined) {
    const ttlMs = parseDurationMs(ttl)
    if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0) {
      return `--ttl ${ttl}: give a duration such as 90s, 15m, 12h or 7d`
    }
    body['ttlMs'] = ttlMs
  } else {
    const at = /^\d+$/.test(expiresAt as string)
      ? Number(expiresAt)
      : Date.parse(expiresAt as string)
    if (!Number.isSafeInteger(at)) {
      return `--expires-at ${expiresAt}: give milliseconds since the epoch or an ISO date`
    }
    body['expiresAtMs'] = at
  }
  if (reason !== undefined) body['reason'] = reason
  return body
}

/** The `relay revoke --help` text. */
export const revokeHelpText = (): string =>
  [
    'Usage: pnpm weft revoke --subject <sub>   (--ttl <duration> | --expires-at <time>) [--reason <text>]',
    '       pnpm weft revoke --token-id <jti>  (--ttl <duration> | --expires-at <time>) [--reason <text>]',
    '       pnpm weft revoke list',
    '       pnpm weft revoke lift <id>',
    '',
    "Talks to a running relay's /admin/revocations routes: --url (env WEFT_RELAY_URL), the",
    "relay's http(s) address, and --admin-token (env WEFT_ADMIN_TOKEN). The relay writes the",
    'revocation to its store and tells the other relays on its bus, so every relay sharing the',
    'store refuses the tokens and closes their sessions. --subject refuses every token of that',
    'sub issued until now (a new sign-in afterwards works); --token-id refuses one token by its',
    'jti. Durations: 90s, 15m, 12h, 7d (at most 366d); make it outlast the tokens it covers.',
    'Prints the revocation (or the list) as JSON.',
  ].join('\n')

/** Runs one `revoke` command against the relay; returns the exit code. */
export const runRevokeCommand = async (
  command: Extract<ParsedRevokeCommand, { kind: 'revoke' }>,
  io: { out: (text: string) => void; err: (line: string) => void },
): Promise<number> => {
  const path =
    command.action === 'lift'
      ? `/admin/revocations/${encodeURIComponent(command.id as string)}`
      : '/admin/revocations'
  const method = command.action === 'add' ? 'POST' : command.action === 'lift' ? 'DELETE' : 'GET'
  let answer: Response
  try {
    answer = await fetch(`${command.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${command.adminToken}`,
        ...(command.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(command.body === undefined ? {} : { body: JSON.stringify(command.body) }),
    })
  } catch (error) {
    io.err(`cannot reach ${command.url}: ${String((error as Error).cause ?? error)}`)
    return 1
  }
  const text = await answer.text()
  if (!answer.ok) {
    let problem = text
    try {
      const { code, message } = JSON.parse(text) as { code?: string; message?: string }
      if (code !== undefined) problem = `${code}: ${message ?? ''}`
    } catch {
      // Not JSON (a proxy's page): print it as it came.
    }
    io.err(`${method} ${path} answered ${answer.status}: ${problem}`)
    return answer.status === 400 ? 2 : 1
  }
  io.out(`${JSON.stringify(JSON.parse(text), null, 2)}\n`)
  return 0
}
