/** Static files: the relay serves a built web app (`--static-dir`, e.g. the demo) next to its routes. */
import { readFile, stat } from 'node:fs/promises'
import type { ServerResponse } from 'node:http'
import { extname, join, normalize, resolve, sep } from 'node:path'

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.ico': 'image/x-icon',
  '.map': 'application/json',
}

/**
 * Serves `urlPath` from `root` when such a file exists (`/` is `index.html`); resolves `false`
 * otherwise (always, without a `root`). Paths that would leave `root` are never served.
 */
export const serveStatic = async (
  directory: string | undefined,
  urlPath: string,
  response: ServerResponse,
): Promise<boolean> => {
  if (directory === undefined) return false
  const root = resolve(directory)
  let decoded: string
  try {
    decoded = decodeURIComponent(urlPath)
  } catch {
    return false
  }
  const relative = normalize(decoded === '/' ? '/index.html' : decoded).replace(/^([/\\])+/, '')
  const file = join(root, relative)
  if (relative.startsWith('..') || !(file === root || file.startsWith(root + sep))) return false
  try {
    if (!(await stat(file)).isFile()) return false
    const body = await readFile(file)
    const type = TYPES[extname(file)] ?? 'application/octet-stream'
    // Hashed assets may be cached; the page itself is always fetched again.
    const cache = relative.startsWith('assets/')
      ? 'public, max-age=31536000, immutable'
      : 'no-cache'
    response.writeHead(200, { 'content-type': type, 'cache-control': cache })
    response.end(body)
    return true
  } catch {
    return false
  }
}
