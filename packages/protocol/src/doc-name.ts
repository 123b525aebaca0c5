/** The rules for document names, shared by client and relay. */
import { WeftError } from './weft-error.js'

/** Longest document name, in UTF-8 bytes. */
export const MAX_DOC_NAME_BYTES = 512

const encoder = new TextEncoder()
// C0 and C1 control characters, and (with the u flag) unpaired surrogates, which UTF-8 cannot carry.
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/
const LONE_SURROGATE = /[\uD800-\uDFFF]/u

/**
 * Checks a document name: 1 to {@link MAX_DOC_NAME_BYTES} UTF-8 bytes, no control characters
 * (C0 or C1), no unpaired surrogates.
 * Returns the error (code `BAD_DOC_NAME`) instead of throwing.
 */
export const checkDocName = (name: unknown): WeftError | undefined => {
  if (typeof name !== 'string' || name.length === 0) {
    return new WeftError('BAD_DOC_NAME', 'a document name must be a non-empty string')
  }
  if (encoder.encode(name).length > MAX_DOC_NAME_BYTES) {
    return new WeftError('BAD_DOC_NAME', `document name is over ${MAX_DOC_NAME_BYTES} UTF-8 bytes`)
  }
  if (CONTROL_CHARACTERS.test(name)) {
    return new WeftError('BAD_DOC_NAME', 'document name contains control characters')
  }
  if (LONE_SURROGATE.test(name)) {
    return new WeftError('BAD_DOC_NAME', 'document name contains an unpaired surrogate')
  }
  return undefined
}
