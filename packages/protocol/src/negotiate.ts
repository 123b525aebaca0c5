/** Protocol version negotiation between a client's range and this code's range. */
import { MIN_PROTOCOL_VERSION, PROTOCOL_VERSION } from './version.js'
import { WeftError } from './weft-error.js'

/**
 * Picks the highest version both sides speak: the client's range `[minVersion, maxVersion]`
 * against this code's {@link MIN_PROTOCOL_VERSION}..{@link PROTOCOL_VERSION}. Returns a
 * `VERSION_UNSUPPORTED` error when the ranges do not overlap.
 */
export const negotiateVersion = (
  minVersion: number,
  maxVersion: number,
): { ok: true; version: number } | { ok: false; error: WeftError } => {
  const version = Math.min(maxVersion, PROTOCOL_VERSION)
  // Without the integer check NaN compares false everywhere and would be "negotiated".
  if (
    !Number.isSafeInteger(minVersion) ||
    !Number.isSafeInteger(maxVersion) ||
    minVersion > maxVersion ||
    version < minVersion ||
    version < MIN_PROTOCOL_VERSION
  ) {
    return {
      ok: false,
      error: new WeftError(
        'VERSION_UNSUPPORTED',
        `client speaks versions ${minVersion}..${maxVersion}, relay speaks ${MIN_PROTOCOL_VERSION}..${PROTOCOL_VERSION}`,
      ),
    }
  }
  return { ok: true, version }
}
