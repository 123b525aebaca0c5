/** Base64 for state vectors: decoding the relay's base64 and encoding base64url for query strings. */
import { WeftError } from '@weft/protocol'

/** Bytes per `String.fromCharCode` call, well under engines' argument limits. */
const CHUNK = 0x8000

/** Encodes `bytes` as base64url without padding (safe in a query string). */
export const encodeBase64Url = (bytes: Uint8Array): string => {
  let binary = ''
  for (let start = 0; start < bytes.length; start += CHUNK) {
    binary += String.fromCharCode(...bytes.subarray(start, start + CHUNK))
  }
  return btoa(binary).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '')
}

/** Decodes base64 or base64url; anything else is `BAD_MESSAGE` (the relay sent something odd). */
export const decodeBase64 = (text: string, what: string): Uint8Array => {
  const normalized = text.replaceAll('-', '+').replaceAll('_', '/')
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(normalized)) {
    throw new WeftError('BAD_MESSAGE', `${what} from the relay is not base64`)
  }
  const padded = normalized.padEnd(Math.ceil(normalized.length / 4) * 4, '=')
  let binary: string
  try {
    binary = atob(padded)
  } catch (error) {
    throw new WeftError('BAD_MESSAGE', `${what} from the relay is not base64`, { cause: error })
  }
  return Uint8Array.from(binary, (char) => char.charCodeAt(0))
}
