/**
 * The route table behind the relay's HTTP routes: a group of `{ method, pattern, handler }` under
 * one path prefix, served with one auth step, one matcher and one error path.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { WeftError } from '@weft/protocol'
import { sendHttp, sendHttpError } from './http-support.js'

/** A request handler: true when it took the request (its path is under the handler's prefix). */
export type HttpHandler = (request: IncomingMessage, response: ServerResponse) => boolean

/** The methods the relay's routes answer. */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE'

/** The `:name` segments of a route pattern, as the type of its params. */
type ParamsOf<Pattern extends string> = Pattern extends `${string}:${infer Name}/${infer Rest}`
  ? { readonly [Key in Name]: string } & ParamsOf<Rest>
  : Pattern extends `${string}:${infer Name}`
    ? { readonly [Key in Name]: string }
    : unknown

/** What a route's handler is given. */
export interface RouteCall<Context, Params = Readonly<Record<string, string>>> {
  readonly request: IncomingMessage
  readonly response: ServerResponse
  /** The pattern's `:name` segments, as they came (still percent-encoded). */
  readonly params: Params
  readonly query: URLSearchParams
  /** What the group's auth step returned. */
  readonly context: Context
  /** The headers every answer of the group carries. */
  readonly headers: Readonly<Record<string, string>>
  /** Answers with `body` (JSON, bytes, or nothing when undefined) and the group's headers. */
  reply(status: number, body: unknown): void
}

/** One route of a group. */
export interface Route<Context> {
  readonly method: HttpMethod
  /** The path under the group's prefix: `/`-separated literals and `:name`s, each one segment. */
  readonly pattern: string
  /** Answers the request; what it throws is answered by the group's error path. */
  readonly handler: (call: RouteCall<Context>) => Promise<void> | void
}

/** A route whose handler reads the pattern's params by name (`params.name` for `/docs/:name`). */
export const route = <Context, Pattern extends string>(
  method: HttpMethod,
  pattern: Pattern,
  handler: (call: RouteCall<Context, ParamsOf<Pattern>>) => Promise<void> | void,
): Route<Context> =>
  // The matcher fills in exactly the pattern's params, so the narrower handler is safe.
  ({ method, pattern, handler: handler as Route<Context>['handler'] })

/** Routes under one prefix that share their auth step, headers and unmatched-request error. */
export interface RouteGroup<Context> {
  /** The paths the group owns: the prefix itself and everything under `<prefix>/`. */
  readonly prefix: string
  /** Headers every answer of the group carries, errors included. Default none. */
  readonly headers?: (request: IncomingMessage) => Record<string, string>
  /** Runs before any route is matched: who is asking. Throws (a WeftError) to refuse. */
  readonly authorize: (
    request: IncomingMessage,
    headers: Readonly<Record<string, string>>,
  ) => Promise<Context> | Context
  /** Matched in order; the first route whose method and pattern fit takes the request. */
  readonly routes: readonly Route<Context>[]
  /** The error for a request no route takes; `allowed` lists the methods its path does have. */
  readonly noRoute: (method: string, path: string, allowed: readonly HttpMethod[]) => WeftError
}

/**
 * Serves `group`: a request under its prefix is authorized, matched and handled, and any error
 * on the way is answered as `{ code, message }` with the code's status; other paths are left to
 * the caller (false).
 */
export const serveRoutes = <Context>(group: RouteGroup<Context>): HttpHandler => {
  const table = group.routes.map((each) => ({ route: each, pattern: segmentsOf(each.pattern) }))
  return (request, response) => {
    const [path = '/', search = ''] = (request.url ?? '/').split('?')
    if (path !== group.prefix && !path.startsWith(`${group.prefix}/`)) return false
    const headers = group.headers?.(request) ?? {}
    void (async () => {
      try {
        const context = await group.authorize(request, headers)
        const method = request.method ?? 'GET'
        const found = match(table, method, segmentsOf(path.slice(group.prefix.length)))
        if ('allowed' in found) throw group.noRoute(method, path, found.allowed)
        await found.route.handler({
          request,
          response,
          params: found.params,
          query: new URLSearchParams(search),
          context,
          headers,
          reply: (status, body) => sendHttp(response, status, body, headers),
        })
      } catch (error) {
        sendHttpError(response, error, headers)
      }
    })()
    return true
  }
}

/** The first route of `table` for `method` and `segments`, or the methods the path has. */
const match = <Context>(
  table: ReadonlyArray<{ route: Route<Context>; pattern: readonly string[] }>,
  method: string,
  segments: readonly string[],
):
  | { readonly route: Route<Context>; readonly params: Record<string, string> }
  | { readonly allowed: HttpMethod[] } => {
  const allowed: HttpMethod[] = []
  for (const { route: candidate, pattern } of table) {
    const params = paramsOf(pattern, segments)
    if (params === null) continue
    if (candidate.method === method) return { route: candidate, params }
    allowed.push(candidate.method)
  }
  return { allowed }
}

/** `/docs/a/b` → `['docs', 'a', 'b']`; `''` → `[]`. */
const segmentsOf = (path: string): string[] => path.split('/').slice(1)

/** The params `segments` give `pattern`'s `:name`s, or null when they do not fit it. */
const paramsOf = (
  pattern: readonly string[],
  segments: readonly string[],
): Record<string, string> | null => {
  if (pattern.length !== segments.length) return null
  const params: Record<string, string> = {}
  for (const [index, part] of pattern.entries()) {
    const segment = segments[index] as string
    if (part.startsWith(':')) params[part.slice(1)] = segment
    else if (part !== segment) return null
  }
  return params
}
