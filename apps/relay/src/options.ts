/** The relay's options: flag, WEFT_* variable, schema with default, and help text of each. */
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
    schema: z.enum(['level', 'postgres', 'memory']).default('level'),
    help: 'level (LevelDB on disk, one relay), postgres (PostgreSQL, shared by several relays; with --postgres-url) or memory (lost on exit)',
  },
  'postgres-url': {
    schema: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'a postgres:// connection string')
      .optional(),
    help: 'PostgreSQL connection string of --store postgres, postgres://user:password@host:5432/db (a secret: prefer the WEFT_POSTGRES_URL variable to a flag)',
  },
  'redis-url': {
    schema: z
      .string()
      .regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL')
      .optional(),
    help:
      'Redis that carries updates and presence between relays sharing --store postgres, ' +
      'redis://[user:password@]host:6379 (a secret when it holds a password: prefer ' +
      'WEFT_REDIS_URL); a relay that loses it keeps serving its own clients and catches up ' +
      'from the store when it returns',
  },
  'history-ms': {
    schema: integer(0).default(7 * 24 * 3_600_000),
    help: 'how long accepted updates stay readable for audit, point-in-time reads and restore after compaction (0: only the log)',
  },
  'schemas-file': {
    schema: z.string().min(1).optional(),
    help:
      'JSON file of document schemas by name pattern, { "schemas": [{ "pattern": "boards/*", ' +
      '"schema": { "version": 1, "collections": { … } } }] }: their changes are described as ' +
      'record events and the HTTP API reads and writes their records',
  },
  'webhooks-file': {
    schema: z.string().min(1).optional(),
    help:
      'JSON file of webhook endpoints that receive the change feed, { "endpoints": [{ "id", ' +
      '"url", "secrets": […], "docs"?: […] }] } (needs --history-ms above 0)',
  },
  'static-dir': {
    schema: z.string().min(1).optional(),
    help: 'directory of a built web app served at / (default: none; / shows a landing page)',
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
  'jwt-extra-secret': {
    schema: z.string().min(32, 'the HS256 secret must be at least 32 characters').optional(),
    help:
      'a second HS256 secret whose tokens are accepted too, while --jwt-secret is rotated ' +
      '(prefer WEFT_JWT_EXTRA_SECRET)',
  },
  'admin-token': {
    schema: z.string().min(32, 'the admin token must be at least 32 characters').optional(),
    help: 'bearer token of the /admin routes, which are off without it (prefer WEFT_ADMIN_TOKEN)',
  },
  'admin-port': {
    schema: integer(0).max(65535).optional(),
    help:
      'serve /admin, /metrics and /stats on this separate port (0 picks a free one) instead of ' +
      '--port, which then answers them 404; /healthz and /readyz are on both (default: none, ' +
      'everything on --port)',
  },
  'admin-host': {
    schema: z.string().min(1).default('127.0.0.1'),
    help: 'interface of --admin-port; keep it on loopback or a private network',
  },
  'metrics-auth': {
    schema: z.enum(['none', 'admin-token']).default('none'),
    help:
      'who may read /metrics and /stats: none (anyone who reaches their listener) or ' +
      'admin-token (Authorization: Bearer <--admin-token>, as /admin)',
  },
  'max-requests-per-sec': {
    schema: integer(0).default(200),
    help:
      'HTTP /v1 requests a second from one client address (twice that in a burst); beyond, 429 ' +
      'with Retry-After; 0: no limit',
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
  'otlp-endpoint': {
    schema: z.url().optional(),
    help:
      'export OpenTelemetry spans over OTLP/HTTP (protobuf) to this collector base URL, e.g. ' +
      'http://127.0.0.1:4318 (sent to /v1/traces); the standard OTEL_EXPORTER_OTLP_ENDPOINT and ' +
      'OTEL_* variables work too (default: none, no export)',
  },
  'max-message-bytes': {
    schema: integer(1).default(16 * MiB),
    help: 'largest frame accepted; bigger closes with 1009',
  },
  'max-doc-bytes': {
    schema: integer(1).default(128 * MiB),
    help:
      'document-size limit: an edit that would take a document over it is refused ' +
      '(DOC_TOO_LARGE); larger messages than --max-message-bytes travel in chunks up to it',
  },
  'compress-from-bytes': {
    schema: integer(0).default(64 * 1024),
    help:
      'frames from this many bytes go deflated to clients that speak protocol 2, when that ' +
      'saves an eighth or more; 0: never',
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
    schema: integer(0).default(0),
    help:
      'messages a second one socket may send (twice that in a burst); 0: no such limit, each ' +
      'message counting 256 bytes more against --max-bytes-per-sec instead',
  },
  'max-bytes-per-sec': {
    schema: integer(1).default(8 * MiB),
    help:
      'bytes a second one socket may send (twice that in a burst), each message counting 256 ' +
      'bytes more than its size; beyond, reading pauses',
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
    help:
      'comma-separated browser origins allowed to connect and to call /v1 (CORS; others get ' +
      '403); default any origin may connect, and /v1 sends no CORS headers',
  },
  'presence-claims': {
    schema: z
      .string()
      .optional()
      .transform((value, context) => {
        if (value === undefined) return undefined
        const pairs = value
          .split(',')
          .map((pair) => pair.trim())
          .filter((pair) => pair.length > 0)
        const mapping: Record<string, string> = {}
        for (const pair of pairs) {
          const [field, claim, ...rest] = pair.split('=').map((part) => part.trim())
          if (
            field === undefined ||
            field === '' ||
            claim === undefined ||
            claim === '' ||
            rest.length > 0
          ) {
            context.addIssue({ code: 'custom', message: `"${pair}" is not field=claim` })
            return z.NEVER
          }
          mapping[field] = claim
        }
        return mapping
      }),
    help:
      'presence fields set from the token, as field=claim pairs, comma-separated (e.g. ' +
      'user.name=name): others see the claim, whatever the client sent',
  },
  'trusted-proxies': {
    schema: z
      .string()
      .default('loopback,private')
      .transform((value) =>
        value.trim() === 'none'
          ? []
          : value
              .split(',')
              .map((entry) => entry.trim())
              .filter((entry) => entry.length > 0),
      ),
    help:
      'comma-separated addresses or CIDRs (or loopback, private) whose X-Forwarded-For/Forwarded ' +
      'names the client, for per-address limits; none to trust no proxy',
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
  'reclaim-memory': {
    schema: z
      .enum(['true', 'false'])
      .default('true')
      .transform((value) => value === 'true'),
    help:
      'run one full garbage collection once at least 100 documents unloaded and at most half ' +
      'the most recently loaded are left, so an idle relay returns to its resting memory',
  },
  'compact-after-updates': {
    schema: integer(1).default(10_000),
    help: 'compact a log once it holds this many updates',
  },
  'compact-after-bytes': { schema: integer(1).default(16 * MiB), help: 'or this many bytes' },
} as const

export type OptionName = keyof typeof OPTIONS

/** Options whose values are secrets, never repeated in messages. */
export const SECRET_OPTIONS: ReadonlySet<string> = new Set<OptionName>([
  'jwt-secret',
  'jwt-extra-secret',
  'admin-token',
  'postgres-url',
  'redis-url',
])

/** The relay's resolved configuration. */
export type RelayConfig = { [K in OptionName]: z.output<(typeof OPTIONS)[K]['schema']> }

/** The environment variable of an option: `--max-message-bytes` ↔ `WEFT_MAX_MESSAGE_BYTES`. */
export const envName = (option: string): string =>
  `WEFT_${option.toUpperCase().replaceAll('-', '_')}`

/**
 * Reads each option in `names`: its flag (from `flags`), else its `WEFT_*` variable, else its
 * key in `file` (the `--config` file's values, named `file.path` in messages), else its default.
 * Returns the values, or a message naming the first invalid option and where it was set; a
 * secret's value is never shown (the message goes to stderr and whatever collects it).
 */
export const readOptions = (
  names: readonly OptionName[],
  flags: Readonly<Record<string, string | boolean | undefined>>,
  env: NodeJS.ProcessEnv,
  file?: { readonly path: string; readonly values: Readonly<Record<string, string>> },
): { config: Record<string, unknown> } | { invalid: string } => {
  const config: Record<string, unknown> = {}
  for (const name of names) {
    const fromFlag = flags[name]
    const fromEnv = env[envName(name)] || undefined
    const raw = fromFlag ?? fromEnv ?? file?.values[name]
    const result = OPTIONS[name].schema.safeParse(raw)
    if (!result.success) {
      const source =
        fromFlag !== undefined
          ? `--${name}`
          : fromEnv !== undefined
            ? envName(name)
            : `${file?.path ?? 'default'} "${name}"`
      const issue = result.error.issues[0]?.message ?? 'invalid value'
      const shown = SECRET_OPTIONS.has(name) ? '(hidden)' : String(raw)
      return { invalid: `${source}=${shown}: ${issue}` }
    }
    config[name] = result.data
  }
  return { config }
}
