/** newDocGuid: a fresh Y.Doc guid, cheaply. */

/**
 * A document guid from the platform's UUID generator where there is one (Yjs's own default draws
 * 31 random numbers one by one, which dominates opening many documents); `undefined` lets Yjs
 * choose (`crypto.randomUUID` is missing outside secure browser contexts).
 */
export const newDocGuid = (): string | undefined =>
  (globalThis.crypto as { randomUUID?: () => string } | undefined)?.randomUUID?.()
