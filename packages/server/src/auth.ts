/** Authentication: who a session is, and which documents it may read or write. */
import { WeftError } from '@weft/protocol'
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors as joseErrors,
  importSPKI,
  jwtVerify,
  type JWK,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose'

/** What one scope of a token allows on the documents whose names match `pattern`. */
export interface DocScope {
  /**
   * A document name, or a pattern: `*` matches any characters except `/`, `**` any characters
   * including `/`. `notes/*` matches `notes/a` but not `notes/a/b`; `**` matches every name.
   */
  readonly pattern: string
  /** `read`: sync and presence only. `write`: also edits. */
  readonly access: 'read' | 'write'
  /** With `write`: edits may touch only these root types (`doc.getText('body')` is `body`). */
  readonly types?: readonly string[]
}

/** An authenticated session's identity. */
export interface Identity {
  /** Token subject (`sub`): the user or service, written beside its edits. */
  readonly subject: string
  readonly scopes: readonly DocScope[]
  /**
   * Roles the token grants (`weft.roles`, a list of strings), which record rules may require
   * (`{ role: 'admin' }`). Absent: none.
   */
  readonly roles?: readonly string[]
  /** When the token stops being accepted (`exp` plus the clock tolerance), or `null` if never. */
  readonly expiresAtMs: number | null
  /** The token's id (`jti`), if it has one: a revocation by token id names it. */
  readonly tokenId?: string
  /**
   * When the token was issued (`iat`, ms since the epoch), if it says: a revocation by subject
   * refuses the tokens issued at or before it (all of them when this is missing).
   */
  readonly issuedAtMs?: number
  /**
   * The verified token's claims, for presence fields the relay sets from them
   * (`RelayOptions.presenceClaims`). Absent: none.
   */
  readonly claims?: Readonly<Record<string, unknown>>
}

/**
 * Verifies tokens. The relay calls it on `hello` (Weft dialect), on `refresh-token`, and with the
 * `token` query parameter (y-websocket dialect).
 */
export interface Authenticator {
  /** `open` lets anyone in with write access to every document (local development only). */
  readonly mode: 'open' | 'token'
  /** The identity a token stands for; rejects with `UNAUTHORIZED` saying why. */
  authenticate(token: string): Promise<Identity>
}

/** What a session may do with one document. */
export interface DocAccess {
  readonly read: boolean
  readonly write: boolean
  /** Root types writes are limited to, or `null` for any. */
  readonly types: ReadonlySet<string> | null
}

const ANYONE: Identity = {
  subject: 'anonymous',
  scopes: [{ pattern: '**', access: 'write' }],
  expiresAtMs: null,
}

/** No authentication: every session is `anonymous` with write access to every document. */
export const openAuth = (): Authenticator => ({
  mode: 'open',
  authenticate: async () => ANYONE,
})

/** Options of {@link jwtAuth}: exactly one of `secret`, `publicKey`, `jwks` or `jwksUrl`. */
export interface JwtAuthOptions {
  /**
   * Shared secret for HS256 (at least 32 bytes), or several: a token signed with any of them is
   * accepted (the first that verifies it), so a secret can be rotated without refusing the
   * tokens signed with the one it replaces while they live.
   */
  secret?: string | Uint8Array | ReadonlyArray<string | Uint8Array>
  /** PEM public key (SPKI) for RS256 or EdDSA; `algorithm` says which. */
  publicKey?: string
  /** Algorithm of `publicKey`. Default `RS256`. */
  algorithm?: 'RS256' | 'EdDSA' | 'ES256'
  /** A JSON Web Key Set given inline. */
  jwks?: { keys: JWK[] }
  /** Where to fetch the JSON Web Key Set (cached, refetched for unknown key ids). */
  jwksUrl?: string
  /** Allowed clock difference for `exp` and `nbf`, in seconds. Default 30. */
  clockToleranceSec?: number
  /** Required `iss`, if set. */
  issuer?: string
  /** Required `aud`, if set. */
  audience?: string
}

/**
 * Claim that carries a token's document scopes and roles:
 * `{ "weft": { "docs": [DocScope…], "roles": ["admin"] } }`.
 */
export const SCOPES_CLAIM = 'weft'

/**
 * JWT authentication with `jose`. The token's `sub` is the identity; its `weft.docs` claim lists
 * {@link DocScope}s; `exp` and `nbf` are checked with `clockToleranceSec`.
 */
export const jwtAuth = (options: JwtAuthOptions): Authenticator => {
  if (typeof options !== 'object' || options === null) {
    throw new WeftError('INVALID_ARGUMENT', 'jwtAuth options must be an object')
  }
  const sources = (['secret', 'publicKey', 'jwks', 'jwksUrl'] as const).filter(
    (key) => options[key] !== undefined,
  )
  if (sources.length !== 1) {
    throw new WeftError(
      'INVALID_ARGUMENT',
      `jwtAuth needs exactly one of secret, publicKey, jwks or jwksUrl (got ${sources.length === 0 ? 'none' : sources.join(', ')})`,
    )
  }
  const tolerance = options.clockToleranceSec ?? 30
  if (!Number.isFinite(tolerance) || tolerance < 0) {
    throw new WeftError('INVALID_ARGUMENT', 'clockToleranceSec must be a non-negative number')
  }
  const { keys, algorithms } = verificationKeys(options)
  const checks = {
    algorithms,
    clockTolerance: tolerance,
    ...(options.issuer !== undefined ? { issuer: options.issuer } : {}),
    ...(options.audience !== undefined ? { audience: options.audience } : {}),
  }
  /** The payload of the first key that verifies `token`; the error of the first key if none. */
  const verify = async (token: string): Promise<JWTPayload> => {
    let first: unknown
    for (const [index, key] of keys.entries()) {
      try {
        return (await jwtVerify(token, await key, checks)).payload
      } catch (cause) {
        if (index === 0) first = cause
        // Only a signature another key may verify is worth another try.
        if (!(cause instanceof joseErrors.JWSSignatureVerificationFailed)) break
      }
    }
    throw first
  }
  return {
    mode: 'token',
    authenticate: async (token) => {
      if (typeof token !== 'string' || token.length === 0) {
        throw new WeftError('UNAUTHORIZED', 'no token was given')
      }
      let payload: JWTPayload
      try {
        payload = await verify(token)
      } catch (cause) {
        throw new WeftError('UNAUTHORIZED', `the token was refused: ${tokenProblem(cause)}`, {
          cause,
        })
      }
      // The session lasts as long as verification would still accept the token.
      const identity = identityOf(payload)
      if (identity.expiresAtMs === null) return identity
      return { ...identity, expiresAtMs: identity.expiresAtMs + tolerance * 1000 }
    },
  }
}

type Key = Uint8Array | CryptoKey | JWTVerifyGetKey

/** One HS256 secret as bytes; throws unless it is at least 32 bytes. */
const secretKey = (secret: unknown): Uint8Array => {
  const bytes = typeof secret === 'string' ? new TextEncoder().encode(secret) : secret
  if (!(bytes instanceof Uint8Array) || bytes.length < 32) {
    throw new WeftError('INVALID_ARGUMENT', 'the HS256 secret must be at least 32 bytes')
  }
  return bytes
}

const verificationKeys = (
  options: JwtAuthOptions,
): { keys: ReadonlyArray<Promise<Key> | Key>; algorithms: string[] } => {
  if (options.secret !== undefined) {
    const { secret } = options
    const secrets = Array.isArray(secret) ? secret : [secret]
    if (secrets.length === 0) {
      throw new WeftError('INVALID_ARGUMENT', 'secret must name at least one HS256 secret')
    }
    return { keys: secrets.map(secretKey), algorithms: ['HS256'] }
  }
  const { key, algorithms } = verificationKey(options)
  return { keys: [key], algorithms }
}

const verificationKey = (
  options: JwtAuthOptions,
): { key: Promise<Key> | Key; algorithms: string[] } => {
  if (options.publicKey !== undefined) {
    const algorithm = options.algorithm ?? 'RS256'
    const key = importSPKI(options.publicKey, algorithm).catch((cause: unknown) => {
      throw new WeftError('INVALID_ARGUMENT', `publicKey is not a PEM ${algorithm} public key`, {
        cause,
      })
    })
    // Reported at first use; keep an unhandled rejection from escaping before that.
    key.catch(() => {})
    return { key, algorithms: [algorithm] }
  }
  const allowed = ['RS256', 'EdDSA', 'ES256']
  if (options.jwks !== undefined) {
    if (!Array.isArray(options.jwks?.keys)) {
      throw new WeftError('INVALID_ARGUMENT', 'jwks must be { keys: [...] }')
    }
    return { key: createLocalJWKSet(options.jwks), algorithms: allowed }
  }
  let url: URL
  try {
    url = new URL(options.jwksUrl as string)
  } catch {
    throw new WeftError('INVALID_ARGUMENT', `jwksUrl is not a URL: ${String(options.jwksUrl)}`)
  }
  return { key: createRemoteJWKSet(url), algorithms: allowed }
}

/** Why jose refused a token, in words safe to log and send (never the token). */
const tokenProblem = (cause: unknown): string => {
  if (cause instanceof joseErrors.JWTExpired) return 'it has expired'
  if (cause instanceof joseErrors.JWTClaimValidationFailed)
    return `claim ${cause.claim} is not valid`
  if (cause instanceof joseErrors.JWSSignatureVerificationFailed) return 'bad signature'
  if (cause instanceof joseErrors.JWKSNoMatchingKey) return 'no key matches its key id'
  if (cause instanceof joseErrors.JOSEAlgNotAllowed) return 'algorithm not allowed'
  if (cause instanceof joseErrors.JWSInvalid || cause instanceof joseErrors.JWTInvalid)
    return 'not a well-formed JWT'
  if (cause instanceof WeftError) return cause.message
  return 'it could not be verified'
}

/** The identity in a verified payload; a payload without a subject or with bad scopes is refused. */
export const identityOf = (payload: JWTPayload): Identity => {
  if (typeof payload.sub !== 'string' || payload.sub.length === 0) {
    throw new WeftError('UNAUTHORIZED', 'the token has no subject (sub)')
  }
  const roles = parseRoles(payload[SCOPES_CLAIM])
  return {
    subject: payload.sub,
    scopes: parseScopes(payload[SCOPES_CLAIM]),
    ...(roles.length > 0 ? { roles } : {}),
    expiresAtMs: typeof payload.exp === 'number' ? payload.exp * 1000 : null,
    ...(typeof payload.jti === 'string' && payload.jti !== '' ? { tokenId: payload.jti } : {}),
    ...(typeof payload.iat === 'number' && Number.isFinite(payload.iat)
      ? { issuedAtMs: payload.iat * 1000 }
      : {}),
    claims: payload,
  }
}

const parseRoles = (claim: unknown): string[] => {
  const roles = (claim as { roles?: unknown } | null | undefined)?.roles
  if (roles === undefined) return []
  if (!Array.isArray(roles) || !roles.every((role) => typeof role === 'string' && role !== '')) {
    throw new WeftError('UNAUTHORIZED', `${SCOPES_CLAIM}.roles must be a list of role names`)
  }
  return [...roles]
}

const parseScopes = (claim: unknown): DocScope[] => {
  if (claim === undefined) return []
  const docs = (claim as { docs?: unknown } | null)?.docs
  if (!Array.isArray(docs)) {
    throw new WeftError('UNAUTHORIZED', `the ${SCOPES_CLAIM} claim must be { "docs": [ … ] }`)
  }
  return docs.map((entry: unknown, index): DocScope => {
    const scope = entry as Partial<DocScope> | null
    const where = `${SCOPES_CLAIM}.docs[${index}]`
    if (typeof scope?.pattern !== 'string' || scope.pattern.length === 0) {
      throw new WeftError('UNAUTHORIZED', `${where}.pattern must be a non-empty string`)
    }
    if (scope.access !== 'read' && scope.access !== 'write') {
      throw new WeftError('UNAUTHORIZED', `${where}.access must be "read" or "write"`)
    }
    if (
      scope.types !== undefined &&
      !(Array.isArray(scope.types) && scope.types.every((type) => typeof type === 'string'))
    ) {
      throw new WeftError('UNAUTHORIZED', `${where}.types must be a list of root type names`)
    }
    return {
      pattern: scope.pattern,
      access: scope.access,
      ...(scope.types !== undefined ? { types: [...scope.types] } : {}),
    }
  })
}

const patterns = new Map<string, RegExp>()

/** Whether a document name matches a scope pattern (`*` within a segment, `**` across). */
export const matchesPattern = (pattern: string, name: string): boolean => {
  let regex = patterns.get(pattern)
  if (regex === undefined) {
    const source = pattern
      .split('**')
      .map((part) =>
        part
          .split('*')
          .map((literal) => literal.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
          .join('[^/]*'),
      )
      .join('.*')
    regex = new RegExp(`^${source}$`, 'su')
    if (patterns.size > 10_000) patterns.clear()
    patterns.set(pattern, regex)
  }
  return regex.test(name)
}

/**
 * What `identity` may do with document `name`: the union of every matching scope. Write implies
 * read; a write scope without `types` lifts any type limit of the others.
 */
export const accessFor = (identity: Identity, name: string): DocAccess => {
  let read = false
  let write = false
  let types: Set<string> | null = new Set()
  for (const scope of identity.scopes) {
    if (!matchesPattern(scope.pattern, name)) continue
    read = true
    if (scope.access !== 'write') continue
    write = true
    if (scope.types === undefined) types = null
    else if (types !== null) for (const type of scope.types) types.add(type)
  }
  return { read, write, types: write ? types : null }
}
